# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel resolution for the iopin VM runner (sourced by vm/run-vm.sh).
#
# resolve_kernel SPEC [MODULES_DIR] turns the --kernel argument into:
#   K_RELEASE      kernel release (uname -r of the guest)
#   K_BOOT_IMAGE   file given to qemu -kernel
#   K_BOOT_MODE    "pvh" (uncompressed ELF vmlinux, entered through its PVH
#                  note: no in-guest decompression, which costs seconds under
#                  TCG) or "bzimage" (the image as given)
#   K_MODDIR       the lib/modules/<release> tree, or empty
#   K_DESC         human readable origin, for the header
#   K_DEB_VERSION  Debian package version of a packaged kernel (the one of
#                  its linux-headers-K_RELEASE), else empty
#
# A kernel that cannot be booted at all (garbage, corrupt payload) exits with
# EXIT_SKIP_BISECT right here, without starting QEMU.

# shellcheck disable=SC2034  # results, used by vm/run-vm.sh
K_RELEASE= K_BOOT_IMAGE= K_BOOT_MODE= K_MODDIR= K_DESC= K_DEB_VERSION=

# u_le FILE OFFSET BYTES: unsigned little-endian integer read from FILE.
u_le() {
	od -An -v -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# payload_format MAGIC_HEX: name of the compression whose stream starts with
# these bytes (the formats CONFIG_KERNEL_* offers on x86); fails if unknown.
payload_format() {
	case $1 in
	1f8b*)		echo gzip ;;
	425a68*)	echo bzip2 ;;
	5d0000*)	echo lzma ;;
	fd377a585a00*)	echo xz ;;
	894c5a4f*)	echo lzo ;;
	02214c18*)	echo lz4 ;;
	28b52ffd*)	echo zstd ;;
	*)		return 1 ;;
	esac
}

# decompress_stream FORMAT: decompress stdin to stdout with the tool for
# FORMAT (see payload_format).  Returns 3 when the tool is missing (caller
# falls back to booting the bzImage), any other non-zero status when the
# data is corrupt or has trailing bytes.
decompress_stream() {
	local tool

	case $1 in
	gzip)	tool=(gzip -dc) ;;
	bzip2)	tool=(bzip2 -dc) ;;
	lzma)	tool=(xz --format=lzma -dc) ;;
	xz)	tool=(xz -dc) ;;
	lzo)	tool=(lzop -dc) ;;
	lz4)	tool=(lz4 -dc) ;;
	zstd)	tool=(zstd -dcq) ;;
	*)	cat >/dev/null; return 3 ;;
	esac
	command -v "${tool[0]}" >/dev/null 2>&1 || { cat >/dev/null; return 3; }
	"${tool[@]}"
}

# elf_has_pvh_note FILE: true if FILE is an x86-64 ELF kernel that QEMU can
# enter directly (XEN_ELFNOTE_PHYS32_ENTRY, note type 18, CONFIG_PVH=y).
elf_has_pvh_note() {
	[[ $(magic_hex "$1" 0 4) == 7f454c46 ]] || return 1
	command -v readelf >/dev/null 2>&1 || return 1
	readelf -n "$1" 2>/dev/null |
		grep -Eq '^[[:space:]]*Xen[[:space:]].*(\(0x00000012\)|PHYS32_ENTRY)'
}

# bzimage_to_vmlinux BZIMAGE OUT: extract the compressed payload of a
# bzImage (boot protocol >= 2.08 records where it is) into an ELF vmlinux.
# Returns 0 on success, 3 when this host cannot extract it (fall back to
# bzImage boot), 1 when the payload is corrupt.
#
# Layout (arch/x86/boot/compressed/Makefile, mkpiggy): the payload is the
# compressed stream, followed for every format but gzip by the uncompressed
# size as 4 bytes little-endian (the *_with_size rules); gzip's own trailer
# already ends with that size.  So the payload's last 4 bytes give the
# decompressed length, which checks the result.  The layout the format has
# in the kernel's build is tried first, then the other one, so that a
# payload with or without the size trailer (patched Makefiles) extracts.
bzimage_to_vmlinux() {
	local img=$1 out=$2 setup_sects off len fmt want lens n rc

	setup_sects=$(u_le "$img" $((0x1f1)) 1)
	((setup_sects == 0)) && setup_sects=4
	off=$(( (setup_sects + 1) * 512 + $(u_le "$img" $((0x248)) 4) ))
	len=$(u_le "$img" $((0x24c)) 4)
	((len > 8 && off + len <= $(stat -L -c %s "$img"))) || return 1
	fmt=$(payload_format "$(magic_hex "$img" "$off" 6)") || return 3
	want=$(u_le "$img" $((off + len - 4)) 4)
	lens=("$((len - 4))" "$len")
	[[ $fmt == gzip ]] && lens=("$len" "$((len - 4))")
	for n in "${lens[@]}"; do
		tail -c "+$((off + 1))" "$img" | head -c "$n" |
			decompress_stream "$fmt" >"$out" 2>/dev/null
		rc=${PIPESTATUS[2]}
		((rc == 3)) && { rm -f "$out"; return 3; }
		((rc == 0)) && [[ $(magic_hex "$out" 0 4) == 7f454c46 ]] || continue
		# A stream filling the whole payload has no size trailer to check.
		[[ $n == "$len" && $fmt != gzip ]] && return 0
		(($(stat -c %s "$out") % (1 << 32) == want)) && return 0
	done
	rm -f "$out"
	return 1
}

# prepare_boot_image IMAGE VMLINUX_OUT: set K_BOOT_IMAGE/K_BOOT_MODE (and
# K_RELEASE from the image itself if still unknown) for IMAGE, which is a
# bzImage or an ELF vmlinux.  VMLINUX_OUT is where an extracted vmlinux goes
# (reused if it already exists: callers pass a cache path for immutable
# kernels).  Exits EXIT_SKIP_BISECT if IMAGE cannot be a kernel.
prepare_boot_image() {
	local img=$1 out=$2 ver ptr rc

	if [[ $(magic_hex "$img" 0 4) == 7f454c46 ]]; then
		elf_has_pvh_note "$img" ||
			die "$EXIT_SKIP_BISECT" "$img: ELF kernel without a PVH entry note (CONFIG_PVH=n?); give the bzImage instead"
		K_BOOT_IMAGE=$img K_BOOT_MODE=pvh
		[[ -n $K_RELEASE ]] || K_RELEASE=$(grep -a -m1 -o 'Linux version [^ ]*' "$img" | head -1 | cut -d' ' -f3)
		return 0
	fi

	# x86 boot protocol header: "HdrS" at 0x202, version at 0x206.
	if (( $(stat -L -c %s "$img") <= 0x400 )) ||
		[[ $(magic_hex "$img" $((0x202)) 4) != 48647253 ]]; then
		die "$EXIT_SKIP_BISECT" "$img: not a bzImage (no boot protocol header) nor an ELF vmlinux"
	fi
	(( $(u_le "$img" $((0x206)) 2) >= 0x208 )) ||
		die "$EXIT_SKIP_BISECT" "$img: boot protocol too old (< 2.08)"

	if [[ -z $K_RELEASE ]]; then
		# kernel_version: pointer (minus 0x200) to "6.12.0-rc1 (user@host) #1 ..."
		ptr=$(u_le "$img" $((0x20e)) 2)
		ver=$(tail -c "+$((ptr + 0x200 + 1))" "$img" | head -c 256 | tr '\0' '\n' | head -1)
		K_RELEASE=${ver%% *}
	fi

	K_BOOT_IMAGE=$img K_BOOT_MODE=bzimage
	[[ ${IOPIN_VM_BOOT:-pvh} == bzimage ]] && return 0
	if [[ -s $out ]]; then
		K_BOOT_IMAGE=$out K_BOOT_MODE=pvh
		return 0
	fi
	bzimage_to_vmlinux "$img" "$out.tmp$$"
	rc=$?
	case $rc in
	0)	if elf_has_pvh_note "$out.tmp$$"; then
			mv -f "$out.tmp$$" "$out"
			K_BOOT_IMAGE=$out K_BOOT_MODE=pvh
		else
			rm -f "$out.tmp$$"	# CONFIG_PVH=n: boot the bzImage
		fi ;;
	3)	;;			# unknown compression here: let the guest decompress
	*)	die "$EXIT_SKIP_BISECT" "$img: compressed kernel payload is corrupt (does not decompress)" ;;
	esac
	return 0
}

# find_modtree ROOT [RELEASE]: print the lib/modules/<release> directory
# under ROOT (an install root, or the <release> directory itself).
find_modtree() {
	local root=$1 rel=$2 d cands=()

	if [[ -e $root/modules.order || -e $root/modules.builtin ]]; then
		echo "$root"
		return 0
	fi
	for d in "$root"/lib/modules/* "$root"/usr/lib/modules/*; do
		[[ -d $d ]] && cands+=("$d")
	done
	((${#cands[@]})) || return 1
	for d in "${cands[@]}"; do
		[[ -n $rel && ${d##*/} == "$rel" ]] && { echo "$d"; return 0; }
	done
	((${#cands[@]} == 1)) || return 1
	[[ -z $rel ]] || warn "module tree ${cands[0]##*/} does not match kernel release $rel; using it anyway"
	echo "${cands[0]}"
}

# extract_deb DEB DEST: unpack a kernel image .deb once into DEST (atomic:
# a half-extracted tree is never left behind as DEST).
extract_deb() {
	local deb=$1 dest=$2 tmp

	[[ -e $dest/.complete ]] && return 0
	need_tool dpkg-deb dpkg
	msg "extracting ${deb##*/} into the cache"
	tmp=$dest.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp" || return 1
	dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; return 1; }
	touch "$tmp/.complete"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

# use_deb_tree DIR DESC: set the K_* variables from an extracted kernel .deb.
use_deb_tree() {
	local dir=$1 vmlinuz

	vmlinuz=$(ls -1 "$dir"/boot/vmlinuz-* 2>/dev/null | head -1)
	[[ -n $vmlinuz ]] || die "$EXIT_SETUP" "$dir: no boot/vmlinuz-* in the package (not a kernel image .deb?)"
	K_RELEASE=${vmlinuz##*/vmlinuz-}
	K_MODDIR=$(find_modtree "$dir" "$K_RELEASE") || K_MODDIR=
	K_DESC=$2
	# The cache dir is named PACKAGE_VERSION (debian-*), or after the .deb.
	K_DEB_VERSION=${dir##*/}
	K_DEB_VERSION=${K_DEB_VERSION#*_}
	K_DEB_VERSION=${K_DEB_VERSION%_amd64}
	[[ $K_DEB_VERSION == [0-9]*[0-9.~+-]* && $K_DEB_VERSION != *_* ]] || K_DEB_VERSION=
	# The .deb is immutable: the extracted vmlinux is cached beside it.
	with_cache_lock prepare_boot_image "$vmlinuz" "$dir/vmlinux" || exit
	prepare_boot_image "$vmlinuz" "$dir/vmlinux"
}

# debian_newest SERIES: print "package version" of the newest unsigned amd64
# image of Debian's kernel SERIES (e.g. 6.1 or 6.12) known to apt.
debian_newest() {
	local series=${1//./\\.} pkgs memo=$IOPIN_CACHE/kernels/newest-$1 lists=/var/lib/apt/lists

	# apt-cache takes a second; its answer only changes with the apt lists
	# (apt-get update renames files into $lists, updating its mtime).
	if [[ -s $memo && $memo -nt $lists ]]; then
		cat "$memo"
		return 0
	fi
	_debian_newest "$series" >"$memo.tmp$$" && mv -f "$memo.tmp$$" "$memo" && cat "$memo"
	local rc=$?
	rm -f "$memo.tmp$$"
	return "$rc"
}

_debian_newest() {
	local series=$1 pkgs

	pkgs=$(apt-cache search --names-only \
		"^linux-image-${series}(\.0-[0-9]+|\.[0-9]+\+deb[0-9]+)-amd64-unsigned\$" 2>/dev/null |
		awk '{ print $1 }')
	[[ -n $pkgs ]] || return 1
	# madison lists only versions that can really be downloaded.
	# shellcheck disable=SC2086
	apt-cache madison $pkgs 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }' |
		sort -k2,2V | tail -1 | grep .
}

# fetch_debian SERIES: download (once) and extract Debian's kernel.
fetch_debian() {
	local series=$1 pkg ver deb dir newest old

	mkdir -p "$IOPIN_CACHE/kernels"
	if newest=$(debian_newest "$series"); then
		read -r pkg ver <<<"$newest"
		dir=$IOPIN_CACHE/kernels/${pkg}_${ver}
		if [[ ! -e $dir/.complete ]]; then
			deb=$IOPIN_CACHE/debs/${pkg}_${ver//:/%3a}_amd64.deb
			if [[ ! -s $deb ]]; then
				need_tool apt-get apt
				msg "downloading $pkg $ver"
				mkdir -p "$IOPIN_CACHE/debs/.dl$$"
				(cd "$IOPIN_CACHE/debs/.dl$$" && apt-get -q download "$pkg=$ver" >&2 2>/dev/null) ||
					{ rm -rf "$IOPIN_CACHE/debs/.dl$$"; die "$EXIT_SETUP" "apt-get download $pkg=$ver failed (apt-get update needed?)"; }
				mv "$IOPIN_CACHE/debs/.dl$$"/*.deb "$deb"
				rm -rf "$IOPIN_CACHE/debs/.dl$$"
			fi
			extract_deb "$deb" "$dir" || die "$EXIT_SETUP" "cannot extract $deb"
			# Only the extracted tree is used from now on; older
			# builds of the series are superseded.
			rm -f "$deb"
			for old in "$IOPIN_CACHE"/kernels/linux-image-"$series"[.-]*-amd64-unsigned_*; do
				[[ $old == "$dir" ]] || rm -rf "$old"
			done
		fi
	else
		# No apt lists (offline?): use the newest kernel already cached.
		dir=$(ls -1d "$IOPIN_CACHE"/kernels/linux-image-"$series"[.-]*-amd64-unsigned_* 2>/dev/null |
			sort -V | tail -1)
		[[ -n $dir && -e $dir/.complete ]] ||
			die "$EXIT_SETUP" "no linux-image-$series*-amd64-unsigned known to apt (run apt-get update) and none cached"
		pkg=${dir##*/}; ver=${pkg#*_}; pkg=${pkg%%_*}
		warn "apt knows no $series kernel; using cached $pkg $ver"
	fi
	echo "$dir $pkg $ver"
}

# resolve_iopin SPEC MODULES_DIR: a kernel the project builds itself from
# Debian's linux-source-6.12 (vm/build-kernel.sh): iopin-6.12-gup_test (Debian's
# config + CONFIG_GUP_TEST, every driver the VM needs built in), or
# iopin-6.12-<mutant>, the same with mutants/<mutant>.patch applied.  Built
# once (an hour for the first, minutes for a mutant) and cached; set
# IOPIN_VM_BUILD=0 to only use a kernel that is already built.
resolve_iopin() {
	local spec=$1 name=${1#iopin-} img args=() mutant

	[[ -z $2 ]] || warn "--modules is ignored for $spec: its drivers are built in"
	case $name in
	6.12-gup_test) ;;
	6.12-?*)
		mutant=${name#6.12-}
		[[ $mutant =~ ^[A-Za-z0-9_.-]+$ && -f $VM_DIR/../mutants/$mutant.patch ]] ||
			die "$EXIT_USAGE" "--kernel $spec: no mutants/$mutant.patch (iopin-6.12-gup_test or iopin-6.12-<mutant>)"
		args=(--patch "$VM_DIR/../mutants/$mutant.patch" --name "$name") ;;
	*)	die "$EXIT_USAGE" "--kernel $spec: iopin kernels are iopin-6.12-gup_test and iopin-6.12-<mutant>" ;;
	esac
	if ! img=$("$VM_DIR/build-kernel.sh" "${args[@]}" --print 2>/dev/null); then
		[[ ${IOPIN_VM_BUILD:-1} == 0 ]] &&
			die "$EXIT_SETUP" "$spec is not built (IOPIN_VM_BUILD=0): vm/build-kernel.sh ${args[*]}"
		msg "building $spec (vm/build-kernel.sh ${args[*]}): the first build takes about an hour, a mutant minutes"
		img=$("$VM_DIR/build-kernel.sh" "${args[@]}") ||
			die "$EXIT_SETUP" "vm/build-kernel.sh ${args[*]} failed"
	fi
	K_DESC="$spec: ${img%/bzImage}"
	# A built kernel is immutable (its directory is keyed by source, config
	# and patch): the extracted vmlinux is cached beside it.
	with_cache_lock prepare_boot_image "$img" "${img%/*}/vmlinux" || exit
	prepare_boot_image "$img" "${img%/*}/vmlinux"
}

resolve_kernel() {
	local spec=$1 moddir=$2 dir pkg ver key

	case $spec in
	debian-*)
		[[ -z $moddir ]] || warn "--modules is ignored for $spec"
		# Serialise downloads and extraction of the shared cache.
		read -r dir pkg ver < <(with_cache_lock fetch_debian "${spec#debian-}") ||
			exit "$EXIT_SETUP"
		[[ -n $dir ]] || exit "$EXIT_SETUP"
		use_deb_tree "$dir" "$spec: $pkg $ver"
		;;
	iopin-*)
		resolve_iopin "$spec" "$moddir"
		;;
	*.deb)
		[[ -f $spec ]] || die "$EXIT_USAGE" "--kernel $spec: no such file"
		key=$(basename "$spec" .deb)-$(file_stamp "$spec")
		dir=$IOPIN_CACHE/kernels/deb-$key
		with_cache_lock extract_deb "$(realpath "$spec")" "$dir" ||
			die "$EXIT_SKIP_BISECT" "$spec: cannot extract the package"
		# Trees of packages given by path: drop those unused for 2 weeks.
		touch "$dir"
		find "$IOPIN_CACHE/kernels" -maxdepth 1 -name 'deb-*' -mtime +14 \
			-exec rm -rf {} + 2>/dev/null
		use_deb_tree "$dir" "${spec##*/}"
		;;
	*)
		[[ -f $spec ]] || die "$EXIT_USAGE" "--kernel $spec: no such file (expected debian-6.1, debian-6.12, iopin-6.12-gup_test, iopin-6.12-<mutant>, a .deb or a bzImage)"
		K_DESC=$spec
		# Kernels under test change on every bisect step: the extracted
		# vmlinux lives in the per-run directory, not in the cache.
		prepare_boot_image "$spec" "$RUN_DIR/vmlinux"
		if [[ -n $moddir ]]; then
			[[ -d $moddir ]] || die "$EXIT_USAGE" "--modules $moddir: no such directory"
			K_MODDIR=$(find_modtree "$moddir" "$K_RELEASE") ||
				die "$EXIT_USAGE" "--modules $moddir: no (unique) lib/modules/<release> tree inside"
		fi
		;;
	esac
	[[ -n $K_RELEASE ]] || K_RELEASE=unknown
}

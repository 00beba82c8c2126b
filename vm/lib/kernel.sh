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
#   K_DEBVER       the Debian package version the kernel was built from,
#                  when known (IOPIN_KERNEL_DEBVER in the guest)
#   K_HEADERS_VERSION  the version of the Debian package of this very
#                  image (a .deb, debian-*), whose linux-headers-K_RELEASE
#                  kmod/ builds against; empty for a kernel iopin built
#                  from Debian's source (K_DEBVER set, but no headers
#                  package) or a bare bzImage
#
# A kernel that cannot be booted at all (garbage, corrupt payload) exits with
# EXIT_SKIP_BISECT right here, without starting QEMU.

# shellcheck disable=SC2034  # results, used by vm/run-vm.sh
K_RELEASE= K_BOOT_IMAGE= K_BOOT_MODE= K_MODDIR= K_DESC= K_DEBVER= K_HEADERS_VERSION=

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

# extract_deb DEST DEB...: unpack kernel .debs once into DEST (atomic: a
# half-extracted tree is never left behind as DEST).
extract_deb() {
	local dest=$1 tmp deb
	shift

	[[ -e $dest/.complete ]] && return 0
	need_tool dpkg-deb dpkg
	tmp=$dest.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp" || return 1
	for deb in "$@"; do
		msg "extracting ${deb##*/} into the cache"
		dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; return 1; }
	done
	touch "$tmp/.complete"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

# use_deb_tree DIR DESC: set the K_* variables from an extracted kernel .deb.
use_deb_tree() {
	local dir=$1 vmlinuz

	vmlinuz=$(ls -1 "$dir"/boot/vmlinuz-* 2>/dev/null | head -1)
	if [[ -n $vmlinuz ]]; then
		K_RELEASE=${vmlinuz##*/vmlinuz-}
	else
		# From 7.x: usr/lib/modules/<release>/vmlinuz (linux-binary-*).
		vmlinuz=$(ls -1 "$dir"/usr/lib/modules/*/vmlinuz 2>/dev/null | head -1)
		[[ -n $vmlinuz ]] || die "$EXIT_SETUP" "$dir: no boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz in the package (not a kernel image .deb?)"
		K_RELEASE=${vmlinuz%/vmlinuz}; K_RELEASE=${K_RELEASE##*/}
	fi
	K_MODDIR=$(find_modtree "$dir" "$K_RELEASE") || K_MODDIR=
	K_DESC=$2
	# The cache dir is named PACKAGE_VERSION (debian-*), or after the .deb.
	K_HEADERS_VERSION=${dir##*/}
	K_HEADERS_VERSION=${K_HEADERS_VERSION#*_}
	K_HEADERS_VERSION=${K_HEADERS_VERSION%_amd64}
	[[ $K_HEADERS_VERSION == [0-9]*[0-9.~+-]* && $K_HEADERS_VERSION != *_* ]] || K_HEADERS_VERSION=
	# The .deb is immutable: the extracted vmlinux is cached beside it.
	with_cache_lock prepare_boot_image "$vmlinuz" "$dir/vmlinux" || exit
	prepare_boot_image "$vmlinuz" "$dir/vmlinux"
}

# ---- Debian's kernel packages ----------------------------------------------
#
# Looked up and downloaded through a private apt configuration in the
# cache (its own sources list, lists and archives: $IOPIN_CACHE/apt), so
# that every Debian suite with a kernel line is reachable whatever the
# host's sources name, signatures are checked with the Debian archive
# keyring, and nothing of the host's apt configuration changes.

KERNEL_LOCK=${IOPIN_KERNEL_LOCK:-$VM_DIR/kernels.lock}
APT_DIR=$IOPIN_CACHE/apt
# Suites holding Debian's kernel lines: 5.10 (bullseye, -security), 6.1
# (bookworm, -security), 6.12 (bookworm-security, trixie), 7.x (sid,
# trixie-backports); "archive:suite", the archive being the host's.
APT_SUITES="main:bookworm security:bookworm-security main:bullseye
security:bullseye-security main:trixie main:trixie-backports main:sid"

# apt_host_site main|security: the mirror the host's own apt sources use for
# Debian's main archive (a suite without -security) or its security
# archive; IOPIN_APT_MAIN / IOPIN_APT_SECURITY override them.
apt_host_site() {
	local want=$1 site rel
	case $want in
	main) [[ -n ${IOPIN_APT_MAIN:-} ]] && { echo "$IOPIN_APT_MAIN"; return; } ;;
	security) [[ -n ${IOPIN_APT_SECURITY:-} ]] && { echo "$IOPIN_APT_SECURITY"; return; } ;;
	esac
	while read -r site rel; do
		case $rel in
		bookworm|bullseye|trixie|sid|bookworm-updates) [[ $want == main ]] && { echo "$site"; return; } ;;
		*-security) [[ $want == security ]] && { echo "$site"; return; } ;;
		esac
	done < <(apt-get indextargets --no-release-info --format '$(SITE) $(RELEASE)' 2>/dev/null | sort -u)
	return 1
}

# apt_private apt-get|apt-cache ARGS...: run apt with the private configuration.
apt_private() {
	local tool=$1
	shift
	"$tool" -q -o Dir::Etc::SourceList="$APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null -o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::State::status=/dev/null -o Dir::Cache="$APT_DIR/cache" \
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 \
		-o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}

# apt_private_update [--if-stale]: fetch the private lists (with
# --if-stale only when they are missing or over a day old). A suite the
# mirror does not carry is a warning, not a failure.
apt_private_update() {
	local s kr=/usr/share/keyrings/debian-archive-keyring.gpg stale=1 main sec site

	need_tool apt-get apt
	[[ -r $kr ]] || die "$EXIT_SETUP" "$kr missing: install the Debian package debian-archive-keyring"
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	main=$(apt_host_site main) && sec=$(apt_host_site security) ||
		die "$EXIT_SETUP" "the host's apt sources name no Debian archive and security archive (set IOPIN_APT_MAIN and IOPIN_APT_SECURITY)"
	for s in $APT_SUITES; do
		site=$main
		[[ $s == security:* ]] && site=$sec
		echo "deb [signed-by=$kr] $site ${s#*:} main"
	done >"$APT_DIR/sources.list.new"
	if cmp -s "$APT_DIR/sources.list.new" "$APT_DIR/sources.list"; then
		rm -f "$APT_DIR/sources.list.new"
		[[ ${1:-} == --if-stale &&
		   -n $(find "$APT_DIR/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 | head -1) ]] && stale=0
	else
		mv -f "$APT_DIR/sources.list.new" "$APT_DIR/sources.list"
	fi
	((stale)) || return 0
	msg "updating the private apt lists of Debian's kernel suites ($APT_DIR)"
	apt_private apt-get update 2>&1 | grep -E '^(E|W):' | grep -v 'does not have a Release file' |
		sed 's/^/iopin-vm: apt: /' >&2
	[[ -n $(find "$APT_DIR/lists" -maxdepth 1 -name '*_Packages*' | head -1) ]]
}

# debian_series_re SERIES [FLAVOUR]: the package names of the kernel images
# of SERIES, flavour amd64 (default), cloud or rt: linux-image-<abi>-<f>-unsigned
# up to 6.x; from 7.x linux-binary-<abi>-<f> (its modules and its config are
# in linux-modules-<abi>-<f> and linux-base-<abi>-<f>, see fetch_deb).
debian_series_re() {
	local series=${1//./\\.} f=${2:-amd64} abi
	[[ $f == amd64 ]] || f=$f-amd64
	abi="${series}(\.0-[0-9]+|\.[0-9]+\+deb[0-9]+)-$f"
	echo "^(linux-image-$abi-unsigned|linux-binary-$abi)\$"
}

# debian_builds SERIES [FLAVOUR]: "package version" of every image build of
# Debian's kernel SERIES (e.g. 6.1, 6.12) the private lists know, oldest first.
debian_builds() {
	local pkgs
	pkgs=$(apt_private apt-cache search --names-only "$(debian_series_re "$1" "${2:-}")" 2>/dev/null |
		awk '{ print $1 }')
	[[ -n $pkgs ]] || return 1
	# madison lists only versions that can really be downloaded.
	# shellcheck disable=SC2086
	apt_private apt-cache madison $pkgs 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }' |
		sort -u | sort -k2,2V | grep .
}

# debian_newest SERIES [FLAVOUR]: "package version" of the newest build.
debian_newest() {
	local memo=$IOPIN_CACHE/kernels/newest-$1${2:+-$2} rc

	apt_private_update --if-stale || return 1
	# apt-cache takes a second; its answer only changes with the lists.
	if [[ -s $memo && $memo -nt $APT_DIR/lists ]]; then
		cat "$memo"
		return 0
	fi
	debian_builds "$1" "${2:-}" | tail -1 >"$memo.tmp$$" && [[ -s $memo.tmp$$ ]] &&
		mv -f "$memo.tmp$$" "$memo" && cat "$memo"
	rc=$?
	rm -f "$memo.tmp$$"
	return "$rc"
}

# lock_lookup AWK-CONDITION: the first line of the kernel lock file (see
# vm/kernels.lock) meeting the condition on $1 name, $2 package, $3
# version, as "name package version sha256".
lock_lookup() {
	[[ -r $KERNEL_LOCK ]] || return 1
	awk "!/^#/ && NF >= 4 && ($1) { print \$1, \$2, \$3, \$4; found = 1; exit }
		END { exit !found }" "$KERNEL_LOCK"
}

# debian_exact VERSION: "package version" of the amd64 image built from
# Debian package VERSION: the lock file's, or looked up in the lists.
debian_exact() {
	local ver=$1 series e

	if e=$(lock_lookup "\$3 == \"$ver\" && \$2 ~ /^linux-(image|binary)-/ && \$2 !~ /-(cloud|rt)-/"); then
		read -r _ pkg _ _ <<<"$e"
		echo "$pkg $ver"
		return 0
	fi
	[[ $ver =~ ^([0-9]+\.[0-9]+)[.-] ]] || return 1
	series=${BASH_REMATCH[1]}
	apt_private_update --if-stale || return 1
	debian_builds "$series" | awk -v v="$ver" '$2 == v' | tail -1 | grep . && return 0
	# Not in lists of today: maybe published since the last update.
	apt_private_update && debian_builds "$series" | awk -v v="$ver" '$2 == v' | tail -1 | grep .
}

# download_deb PACKAGE VERSION: the .deb in the cache (downloaded once);
# its SHA256 must be the one the lock file records for it, else the one
# apt's signed lists give. Prints its path.
download_deb() {
	local pkg=$1 ver=$2 deb want got e src=apt

	if e=$(lock_lookup "\$2 == \"$pkg\" && \$3 == \"$ver\""); then
		want=${e##* } src="the lock file ($KERNEL_LOCK)"
	else
		apt_private_update --if-stale || return 1
		want=$(apt_private apt-cache show "$pkg=$ver" 2>/dev/null | sed -n 's/^SHA256: //p' | head -1)
	fi
	[[ $want =~ ^[0-9a-f]{64}$ ]] || die "$EXIT_SETUP" "no SHA256 known for $pkg $ver (not in the lock file nor in apt's lists)"
	deb=$IOPIN_CACHE/debs/${pkg}_${ver//:/%3a}_amd64.deb
	mkdir -p "$IOPIN_CACHE/debs"
	if [[ ! -s $deb ]]; then
		apt_private_update --if-stale || die "$EXIT_SETUP" "cannot update the private apt lists ($APT_DIR)"
		msg "downloading $pkg $ver"
		mkdir -p "$IOPIN_CACHE/debs/.dl$$"
		(cd "$IOPIN_CACHE/debs/.dl$$" && apt_private apt-get download "$pkg=$ver" >&2 2>/dev/null) ||
			{ rm -rf "$IOPIN_CACHE/debs/.dl$$"; die "$EXIT_SETUP" "apt-get download $pkg=$ver failed (no longer in Debian's archive?)"; }
		mv "$IOPIN_CACHE/debs/.dl$$"/*.deb "$deb"
		rm -rf "$IOPIN_CACHE/debs/.dl$$"
	fi
	got=$(sha256sum "$deb" | cut -d' ' -f1)
	if [[ $got != "$want" ]]; then
		rm -f "$deb"
		die "$EXIT_SETUP" "$pkg $ver: SHA256 $got, but $src says $want"
	fi
	echo "$deb"
}

# fetch_deb PACKAGE VERSION: download (once) and extract a package (a
# kernel image, linux-source-*) into the cache; print the tree. A 7.x
# linux-binary-X comes with linux-modules-X and linux-base-X of the same
# version, extracted into the same tree.
fetch_deb() {
	local pkg=$1 ver=$2 dir deb p debs=() pkgs=("$1")

	dir=$IOPIN_CACHE/kernels/${pkg}_${ver}
	if [[ ! -e $dir/.complete ]]; then
		[[ $pkg == linux-binary-* ]] &&
			pkgs+=("linux-modules-${pkg#linux-binary-}" "linux-base-${pkg#linux-binary-}")
		for p in "${pkgs[@]}"; do
			deb=$(download_deb "$p" "$ver") || exit "$EXIT_SETUP"
			debs+=("$deb")
		done
		extract_deb "$dir" "${debs[@]}" || die "$EXIT_SETUP" "cannot extract ${debs[*]}"
		sha256sum "${debs[@]}" | sed 's|  .*/| |' >"$dir/.sha256"
		# Only the extracted tree is used from now on.
		rm -f "${debs[@]}"
	fi
	# Trees of Debian's packages that no run used for 2 weeks go.
	touch "$dir"
	find "$IOPIN_CACHE/kernels" -maxdepth 1 \( -name 'linux-image-*' -o -name 'linux-binary-*' \) \
		-mtime +14 -exec rm -rf {} + 2>/dev/null
	echo "$dir"
}

# debian_resolve SPEC: "package version" for debian-SERIES[-FLAVOUR] (the
# newest build of that line) or debian:VERSION (that exact package).
debian_resolve() {
	local spec=$1 series flavour dir pkg ver

	mkdir -p "$IOPIN_CACHE/kernels"
	case $spec in
	debian:*)
		debian_exact "${spec#debian:}" ||
			die "$EXIT_USAGE" "--kernel $spec: no amd64 kernel image of Debian package version ${spec#debian:} in Debian's archive"
		;;
	*)
		[[ ${spec#debian-} =~ ^([0-9]+\.[0-9]+)(-(cloud|rt))?$ ]] ||
			die "$EXIT_USAGE" "--kernel $spec: a Debian kernel line is debian-<major>.<minor>[-cloud|-rt] (debian-6.1, debian-6.12-rt)"
		series=${BASH_REMATCH[1]} flavour=${BASH_REMATCH[3]}
		debian_newest "$series" "$flavour" && return 0
		# No lists (offline?): the newest build of the line already cached.
		dir=$(cd "$IOPIN_CACHE/kernels" && ls -1d linux-{image,binary}-"$series"[.-]* 2>/dev/null |
			grep -E "$(debian_series_re "$series" "$flavour" | sed 's/\$$//')_" | sort -V | tail -1)
		[[ -z $dir ]] || dir=$IOPIN_CACHE/kernels/$dir
		[[ -n $dir && -e $dir/.complete ]] ||
			die "$EXIT_SETUP" "no $spec kernel known to Debian's archive (offline?) and none cached"
		pkg=${dir##*/}; ver=${pkg#*_}; pkg=${pkg%%_*}
		warn "Debian's archive did not answer; using cached $pkg $ver"
		echo "$pkg $ver"
		;;
	esac
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
	[[ -r ${img%/*}/debian-version ]] && K_DEBVER=$(<"${img%/*}/debian-version")
	# A built kernel is immutable (its directory is keyed by source, config
	# and patch): the extracted vmlinux is cached beside it.
	with_cache_lock prepare_boot_image "$img" "${img%/*}/vmlinux" || exit
	prepare_boot_image "$img" "${img%/*}/vmlinux"
}

resolve_kernel() {
	local spec=$1 moddir=$2 dir pkg ver key pv

	case $spec in
	debian-*|debian:*)
		[[ -z $moddir ]] || warn "--modules is ignored for $spec"
		pv=$(with_cache_lock debian_resolve "$spec") || exit
		read -r pkg ver <<<"$pv"
		# Serialise downloads and extraction of the shared cache.
		dir=$(with_cache_lock fetch_deb "$pkg" "$ver") || exit
		[[ -n $dir ]] || exit "$EXIT_SETUP"
		use_deb_tree "$dir" "$spec: $pkg $ver"
		K_DEBVER=$ver
		;;
	iopin-*)
		resolve_iopin "$spec" "$moddir"
		;;
	*.deb)
		[[ -f $spec ]] || die "$EXIT_USAGE" "--kernel $spec: no such file"
		key=$(basename "$spec" .deb)-$(file_stamp "$spec")
		dir=$IOPIN_CACHE/kernels/deb-$key
		with_cache_lock extract_deb "$dir" "$(realpath "$spec")" ||
			die "$EXIT_SKIP_BISECT" "$spec: cannot extract the package"
		# Trees of packages given by path: drop those unused for 2 weeks.
		touch "$dir"
		find "$IOPIN_CACHE/kernels" -maxdepth 1 -name 'deb-*' -mtime +14 \
			-exec rm -rf {} + 2>/dev/null
		use_deb_tree "$dir" "${spec##*/}"
		;;
	*)
		[[ -f $spec ]] || die "$EXIT_USAGE" "--kernel $spec: no such file (expected debian-6.1, debian-6.12, debian:VERSION, iopin-6.12-gup_test, iopin-6.12-<mutant>, a .deb or a bzImage)"
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

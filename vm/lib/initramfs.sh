# SPDX-License-Identifier: GPL-2.0-only
#
# Initramfs construction for the iopin VM runner (sourced by vm/run-vm.sh).
#
# The initramfs is the concatenation of three uncompressed newc cpio
# archives (the kernel unpacks them one after the other; not compressing
# saves the in-guest decompression, which is slow under TCG):
#
#   base     busybox + applet links, bash and its libraries, /etc skeleton.
#            Cached, keyed by the host's busybox and bash binaries.
#   modules  the modules of vm/modules.list plus their dependencies,
#            decompressed, with a load order.  Cached per kernel for the
#            immutable Debian kernels, rebuilt per run for a bzImage.
#   suite    /init, the installed suite at /iopin with the libraries its
#            binaries need, the run's arguments and environment.  Per run.

# stage_dir DIR: succeed only for a staging tree of this run, a directory
# inside RUN_DIR. Every function that writes into a guest tree checks its
# ROOT with it first: an empty ROOT (a failed mktemp, say, when RUN_DIR was
# removed under a builder) would otherwise make "$root/etc/passwd" the
# host's /etc/passwd. That happened once: a run that was stopped while the
# base archive was being built wrote the guest's passwd, group, hostname,
# busybox links and modules over the host's.
stage_dir() {
	[[ -n ${RUN_DIR:-} && $RUN_DIR == /?* && $1 == "$RUN_DIR"/?* && -d $1 && ! -L $1 ]] && return 0
	printf 'iopin-vm: error: refusing to build a guest tree in "%s" (not a directory inside the run directory %s)\n' \
		"$1" "${RUN_DIR:-(unset)}" >&2
	return 1
}

# new_stage_dir NAME: print a fresh staging directory inside RUN_DIR.
new_stage_dir() {
	local d
	d=$(mktemp -d "${RUN_DIR:?}/$1.XXXXXX") || return 1
	stage_dir "$d" || return 1
	printf '%s\n' "$d"
}

# cpio_pack ROOT OUT: archive the tree ROOT (owned by root in the guest).
cpio_pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >"$2.tmp$$" &&
		mv -f "$2.tmp$$" "$2"
}

# guest_path ROOT PATH: where a host file at absolute PATH goes in the
# guest tree.  The guest has a merged /usr (/bin, /sbin, /lib, /lib64 are
# links into /usr), so /lib/x and /usr/lib/x both land in ROOT/usr/lib/x.
guest_path() {
	stage_dir "$1" || return 1
	local p=${2#/usr/}
	p=${p#/}
	echo "$1/usr/$p"
}

# install_libs ROOT ELF...: copy the shared libraries (and the dynamic
# loader) that each dynamic ELF needs into ROOT, as ldd resolves them on
# this host.  Static binaries and non-ELF files are ignored.
install_libs() {
	local root=$1 f line lib dst
	shift
	stage_dir "$root" || return 1

	for f in "$@"; do
		is_elf "$f" || continue
		while read -r line; do
			case $line in
			*"not found"*)
				die "$EXIT_SETUP" "$f needs ${line%% *}, which is not installed on this host" ;;
			*"=> /"*)	lib=${line#*=> }; lib=${lib%% (*} ;;
			/*)		lib=${line%% (*} ;;
			*)		continue ;;	# linux-vdso, "statically linked"
			esac
			dst=$(guest_path "$root" "$lib")
			[[ -e $dst ]] && continue
			mkdir -p "${dst%/*}"
			cp -L "$lib" "$dst"
		done < <(ldd "$f" 2>/dev/null)
	done
}

# build_base OUT: the kernel independent part.
build_base() {
	local out=$1 root applet

	[[ -s $out ]] && return 0
	root=$(new_stage_dir base) || return 1
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,tmp,run,root,mnt/scratch,etc/iopin-vm}
	for l in bin sbin lib lib64; do
		ln -s "usr/$l" "$root/$l"
	done
	# Early console for /init, before devtmpfs is mounted.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

	cp -L "$(command -v busybox)" "$root/usr/bin/busybox"
	for applet in $(busybox --list); do
		[[ -e $root/usr/bin/$applet ]] || ln -s busybox "$root/usr/bin/$applet"
	done
	cp -L "$(command -v bash)" "$root/usr/bin/bash"
	install_libs "$root" "$(command -v bash)"

	printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
	echo iopin-vm >"$root/etc/hostname"

	cpio_pack "$root" "$out"
	rm -rf "$root"
}

# read_modules_list FILE: module names, one per line, comments stripped.
read_modules_list() {
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1"
}

# modinfo_field KO FIELD: value of a .modinfo entry of a (possibly
# compressed) module, read straight from its NUL-separated strings, so that
# the host needs no kmod and the tree no modules.dep.
modinfo_field() {
	local ko=$1 field=$2

	case $ko in
	*.xz)	xz -dc "$ko" ;;
	*.zst)	zstd -dcq "$ko" ;;
	*.gz)	gzip -dc "$ko" ;;
	*)	cat "$ko" ;;
	esac 2>/dev/null | tr '\0' '\n' | sed -n "s/^$field=//p" | head -1
}

# build_modules MODDIR LIST OUT SUMMARY: resolve LIST (module names) against
# the tree MODDIR, pack the modules with their dependencies, in load order,
# into OUT and describe the result in SUMMARY (lines "load|builtin|missing
# NAME...").
build_modules() {
	local moddir=$1 list=$2 out=$3 summary=$4
	local rel root f name rel_path dst
	local -A path=() builtin=() state=()
	local -a order=() missing=() inbuilt=()

	[[ -s $out && -s $summary ]] && return 0
	rel=${moddir##*/}
	root=$(new_stage_dir modules) || return 1

	if [[ -n $moddir ]]; then
		# Name -> file index; "-" and "_" are the same in module names.
		while IFS= read -r f; do
			name=${f##*/}; name=${name%%.ko*}; name=${name//-/_}
			path[$name]=$f
		done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
		if [[ -f $moddir/modules.builtin ]]; then
			while IFS= read -r f; do
				name=${f##*/}; name=${name%.ko}
				builtin[${name//-/_}]=1
			done <"$moddir/modules.builtin"
		fi
	fi

	# Depth-first: dependencies are appended before their users.
	resolve() {
		local n=${1//-/_} d
		[[ -n ${state[$n]-} ]] && return 0
		state[$n]=visiting
		if [[ -n ${builtin[$n]-} ]]; then
			inbuilt+=("$n")
		elif [[ -z ${path[$n]-} ]]; then
			missing+=("$n")
		else
			for d in $(modinfo_field "${path[$n]}" depends | tr ',' ' '); do
				resolve "$d"
			done
			order+=("$n")
		fi
		state[$n]=visited
	}
	# "noload:NAME": packed (its dependencies loaded), NAME itself left for
	# a test to load with its own parameters.
	local -A noload=()
	for name in $(read_modules_list "$list"); do
		if [[ $name == noload:* ]]; then
			name=${name#noload:}
			noload[${name//-/_}]=1
		fi
		resolve "$name"
	done

	mkdir -p "$root/usr/lib/modules/$rel" "$root/etc/iopin-vm"
	: >"$root/etc/iopin-vm/modules.load"
	for name in "${order[@]}"; do
		f=${path[$name]}
		rel_path=${f#"$moddir"/}
		rel_path=${rel_path%.xz}; rel_path=${rel_path%.zst}; rel_path=${rel_path%.gz}
		dst=$root/usr/lib/modules/$rel/$rel_path
		mkdir -p "${dst%/*}"
		# Decompressed: busybox insmod cannot read .ko.xz.
		case $f in
		*.xz)	xz -dc "$f" >"$dst" ;;
		*.zst)	zstd -dcq "$f" >"$dst" ;;
		*.gz)	gzip -dc "$f" >"$dst" ;;
		*)	cp "$f" "$dst" ;;
		esac
		[[ -n ${noload[$name]-} ]] ||
			echo "$rel_path" >>"$root/etc/iopin-vm/modules.load"
	done
	# A modules.dep for busybox modprobe, so tests may modprobe these too.
	for name in "${order[@]}"; do
		f=${path[$name]#"$moddir"/}; f=${f%.xz}; f=${f%.zst}; f=${f%.gz}
		printf '%s:' "$f"
		for d in $(modinfo_field "${path[$name]}" depends | tr ',' ' '); do
			d=${path[${d//-/_}]-}; d=${d#"$moddir"/}; d=${d%.xz}; d=${d%.zst}; d=${d%.gz}
			printf ' %s' "$d"
		done
		echo
	done >"$root/usr/lib/modules/$rel/modules.dep"
	[[ -f $moddir/modules.builtin ]] && cp "$moddir/modules.builtin" "$root/usr/lib/modules/$rel/"

	{
		echo "load ${order[*]}"
		echo "builtin ${inbuilt[*]}"
		echo "missing ${missing[*]}"
	} >"$summary.tmp$$"
	cpio_pack "$root" "$out" && mv -f "$summary.tmp$$" "$summary"
	rm -rf "$root"
}

# install_rdma_userspace ROOT: libibverbs (lib/rdma.c dlopen()s it), its
# rxe provider and driver file and their libraries, when this host has them.
install_rdma_userspace() {
	local root=$1 lib dst f
	local -a files=()
	stage_dir "$root" || return 1

	lib=$(ldconfig -p | awk '/libibverbs\.so\.1 /{ print $NF; exit }')
	[[ -n $lib ]] || return 0
	files=("$lib" "${lib%/*}"/libibverbs/librxe-rdmav*.so)
	for f in "${files[@]}"; do
		[[ -e $f ]] || return 0
		dst=$(guest_path "$root" "$f")
		mkdir -p "${dst%/*}"
		cp -L "$f" "$dst"
	done
	install_libs "$root" "${files[@]}"
	if [[ -e /etc/libibverbs.d/rxe.driver ]]; then
		mkdir -p "$root/etc/libibverbs.d"
		cp /etc/libibverbs.d/rxe.driver "$root/etc/libibverbs.d/"
	fi
}

# install_gdb ROOT: a gdb for the debugger tests (ptrace_access). The host's
# gdb links libpython and needs its whole standard library; Debian's
# gdb-minimal does not: its binary is fetched once (apt-get download) into
# the cache. Without it the gdb tests SKIP, saying so.
install_gdb() {
	local root=$1 dir=$IOPIN_CACHE/gdb-minimal dst
	stage_dir "$root" || return 1
	if [[ ! -x $dir/usr/bin/gdb ]]; then
		with_cache_lock fetch_gdb_minimal "$dir" ||
			{ warn "no gdb-minimal (apt-get download failed): the guest's gdb tests will SKIP"; return 0; }
	fi
	dst=$(guest_path "$root" /usr/bin/gdb) || return 1
	mkdir -p "${dst%/*}" && cp "$dir/usr/bin/gdb" "$dst" &&
		install_libs "$root" "$dir/usr/bin/gdb"
}

fetch_gdb_minimal() {
	local dir=$1 tmp=$1.tmp$$
	[[ -x $dir/usr/bin/gdb ]] && return 0
	rm -rf "$tmp" && mkdir -p "$tmp/deb" || return 1
	(cd "$tmp/deb" && apt-get -q download gdb-minimal >/dev/null 2>&1) &&
		dpkg-deb -x "$tmp"/deb/gdb-minimal_*.deb "$tmp/root" &&
		rm -rf "$dir" && mv "$tmp/root" "$dir"
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

# build_suite ROOT OUT SUITE_DIR ARGS_FILE ENV_FILE [EXPECT_FILE...]: the
# per-run part.  ARGS_FILE holds the guest run_tests.sh arguments
# NUL-separated (no quoting problems whatever they contain), ENV_FILE bash
# "export" lines; expectation files go to /iopin/expectations/.
build_suite() {
	local root=$1 out=$2 suite=$3 args=$4 env=$5 f
	shift 5
	mkdir -p "$root" && stage_dir "$root" || return 1

	mkdir -p "$root/etc/iopin-vm"
	cp -a "$suite" "$root/iopin"
	for f in "$@"; do
		mkdir -p "$root/iopin/expectations"
		cp "$f" "$root/iopin/expectations/${f##*/}"
	done
	install -m 0755 "$VM_DIR/init" "$root/init"
	cp "$args" "$root/etc/iopin-vm/args"
	cp "$env" "$root/etc/iopin-vm/env"
	local -a elfs=()
	while IFS= read -r -d '' f; do
		is_elf "$f" && elfs+=("$f")
	done < <(find "$root/iopin" -type f -print0)
	install_libs "$root" "${elfs[@]}"
	install_rdma_userspace "$root"
	install_gdb "$root"
	cpio_pack "$root" "$out"
}

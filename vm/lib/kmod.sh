# SPDX-License-Identifier: GPL-2.0-only
#
# iopin's own kernel modules (kmod/) for a Debian kernel (sourced by
# vm/run-vm.sh, and by kmod/build.sh).
#
# kmod_build_debian RELEASE VERSION: build kmod/*.c (and their *.h) against Debian's own
# headers for that kernel: linux-headers-RELEASE=VERSION and the two
# packages it depends on (linux-headers-*-common, linux-kbuild-*), fetched
# through the private apt configuration (vm/lib/kernel.sh, apt_private) and
# extracted (never installed) into $IOPIN_CACHE/headers/RELEASE_VERSION.
# Their Makefile includes the common tree by its absolute /usr/src path: the
# copy points it at the extracted one.
#
# The compiler is the one the kernel was built with (its
# CONFIG_CC_VERSION_TEXT): the host's when its `--version` says the same,
# else a build root of the kernel's own Debian suite (kmod_buildroot), so
# that 5.10 (bullseye's gcc-10) and 7.x (trixie's gcc-14, and kbuild tools
# linked against trixie's glibc) build on a bookworm host too.
#
# Built once per release and kmod/ source hash into
# $IOPIN_CACHE/kmod/RELEASE-HASH/ (the .ko files and build.log); prints
# that directory. Each module builds on its own (make -k): one that does
# not compile for this kernel is left out and named in build.log. Fails,
# with the reason on stderr and in $IOPIN_CACHE/kmod/RELEASE-HASH.why, when
# no module could be built; the tests that need them then SKIP with it.

kmod_src_hash() {
	cat "$TOP_DIR"/kmod/Kbuild "$TOP_DIR"/kmod/*.[ch] "$TOP_DIR"/vm/lib/kmod.sh | short_hash
}

# kmod_why FILE MESSAGE: print MESSAGE as a warning and keep it in FILE.
kmod_why() {
	warn "$2"
	printf '%s\n' "$2" >"$1"
}

kmod_fetch_headers() {
	local rel=$1 ver=$2 dir=$3 tmp deb dep pkgs
	[[ -f $dir/.done ]] && return 0
	apt_private_update --if-stale || return 1
	tmp=$dir.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp/deb" || return 1
	(cd "$tmp/deb" && apt_private apt-get download "linux-headers-$rel=$ver" >/dev/null 2>&1) ||
		{ warn "apt-get download linux-headers-$rel=$ver failed"; rm -rf "$tmp"; return 1; }
	deb=$(ls "$tmp"/deb/linux-headers-"$rel"_*.deb)
	# Its dependencies of the same source: *-common (= VERSION), linux-kbuild-*.
	pkgs=()
	for dep in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | awk '{ print $1 }'); do
		case $dep in
		linux-headers-*-common|linux-kbuild-*) pkgs+=("$dep=$ver") ;;
		esac
	done
	((${#pkgs[@]} == 2)) ||
		{ warn "linux-headers-$rel: expected a -common and a linux-kbuild dependency, got: ${pkgs[*]}"; rm -rf "$tmp"; return 1; }
	(cd "$tmp/deb" && apt_private apt-get download "${pkgs[@]}" >/dev/null 2>&1) ||
		{ warn "apt-get download ${pkgs[*]} failed"; rm -rf "$tmp"; return 1; }
	for deb in "$tmp"/deb/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; return 1; }
	done
	# The run-time dependencies of kbuild's own tools, for kmod_buildroot.
	dpkg-deb -f "$tmp"/deb/linux-kbuild-*.deb Depends >"$tmp/kbuild.depends"
	rm -rf "$tmp/deb"
	# "include /usr/src/linux-headers-X-common/Makefile" (and, from 7.x,
	# "KBUILD_OUTPUT=/usr/src/linux-headers-X"): into this tree.
	sed -i -e "s|^include /usr/src/|include $dir/root/usr/src/|" \
		-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$dir/root/usr/src/|" \
		"$tmp/root/usr/src/linux-headers-$rel/Makefile" || { rm -rf "$tmp"; return 1; }
	sed -i "s|$tmp/|$dir/|" "$tmp/root/usr/src/linux-headers-$rel/Makefile"
	# Without vmlinux, kbuild skips the modules' BTF (it needs pahole,
	# which the host may lack; the modules need no BTF).
	rm -f "$tmp/root/usr/src/linux-headers-$rel/vmlinux"
	touch "$tmp/.done"
	rm -rf "$dir" && mv "$tmp" "$dir"
}

# kmod_buildroot CC_VERSION_TEXT KBUILD_DEPENDS: a build root (a directory
# to chroot into) of the Debian suite whose gcc-N is exactly the one of
# CC_VERSION_TEXT ("gcc-10 (Debian 10.2.1-6) 10.2.1 20210110",
# "x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"): that gcc, make,
# binutils, the shell tools kbuild runs and the libraries its tools need
# (KBUILD_DEPENDS, a Depends field), all of that suite, downloaded with the
# private apt configuration and extracted, never installed, into
# $IOPIN_CACHE/buildroot/SUITE-gcc-N_VERSION-HASH. Prints the directory.
kmod_buildroot() {
	local text=$1 kdeps=$2 major ver suite pkgs dir tmp deb t0
	major=$(sed -n 's/^[^ ]*gcc-\([0-9][0-9]*\) .*/\1/p' <<<"$text")
	ver=$(sed -n 's/^[^(]*(Debian \([^)]*\)).*/\1/p' <<<"$text")
	[[ -n $major && -n $ver ]] ||
		{ warn "not a Debian gcc-N: \"$text\""; return 1; }
	suite=$(apt_private apt-cache madison "gcc-$major" 2>/dev/null |
		awk -F' *[|] *' -v v="$ver" '$2 == v { split($3, a, " "); sub("/.*", "", a[2]); print a[2]; exit }')
	[[ -n $suite ]] ||
		{ warn "gcc-$major $ver is in none of the private apt suites ($APT_SUITES)"; return 1; }
	pkgs="gcc-$major=$ver make libc6-dev binutils coreutils dash bash sed grep gawk findutils diffutils"
	# kbuild's tools' libraries (libelf, libssl, zlib); no pahole: no BTF.
	pkgs+=" $(tr ',' '\n' <<<"$kdeps" | sed 's/|.*//; s/(.*//; s/ //g' | grep -v -e '^pahole$' -e '^libc6$' -e '^$' | sort -u | tr '\n' ' ')"
	dir=$IOPIN_CACHE/buildroot/$suite-gcc-${major}_$ver-$(short_hash <<<"$pkgs")
	if [[ ! -f $dir/.done ]]; then
		msg "making a $suite build root with gcc-$major $ver (kmod/ for a kernel built with it)"
		t0=$(now)
		tmp=$dir.tmp$$
		rm -rf "$tmp" && mkdir -p "$tmp/debs/partial" "$tmp/root" || return 1
		# shellcheck disable=SC2086  # pkgs: a list of words
		apt_private apt-get -o APT::Default-Release="$suite" -o Dir::Cache::archives="$tmp/debs" \
			--no-install-recommends install --download-only -y $pkgs >"$tmp/apt.log" 2>&1 ||
			{ warn "apt-get: cannot download the $suite build root:"; tail -n 5 "$tmp/apt.log" >&2; rm -rf "$tmp"; return 1; }
		for deb in "$tmp"/debs/*.deb; do
			dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; return 1; }
		done
		rm -rf "$tmp/debs"
		# What maintainer scripts would make: the awk alternative.
		[[ -e $tmp/root/usr/bin/awk ]] || ln -s gawk "$tmp/root/usr/bin/awk"
		echo "$suite: $pkgs; made in $(elapsed "$t0") s" >"$tmp/root.info"
		touch "$tmp/.done"
		rm -rf "$dir" && mv "$tmp" "$dir" || return 1
	fi
	echo "$dir/root"
}

# kmod_make ROOT HEADERS SRC LOG: make -k the modules of SRC against the
# headers tree HEADERS, in the build root ROOT (empty: on the host). In a
# private mount namespace, so that nothing stays mounted whatever happens:
# HEADERS' cache entry and SRC appear at their own paths in ROOT, with
# /proc (objtool reads it) and /dev.
kmod_make() {
	local root=$1 hdr=$2 src=$3 log=$4 cache
	if [[ -z $root ]]; then
		make -k -C "$hdr" M="$src" modules >"$log" 2>&1
		return
	fi
	cache=${hdr%/root/usr/src/*}
	mkdir -p "$root$cache" "$root$src" "$root/proc" "$root/dev" || return 1
	unshare -m --propagation private /bin/sh -c '
		r=$1 c=$2 h=$3 s=$4
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
			mount --bind "$c" "$r$c" && mount --bind "$s" "$r$s" &&
			exec chroot "$r" /usr/bin/make -k -C "$h" M="$s" modules' \
		sh "$root" "$cache" "$hdr" "$src" >"$log" 2>&1
}

kmod_build_debian() {
	local rel=$1 ver=$2 hdr out tmp text cc root="" t0 ko failed
	hdr=$IOPIN_CACHE/headers/${rel}_$ver
	out=$IOPIN_CACHE/kmod/$rel-$(kmod_src_hash)
	if [[ -f $out/.done ]]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$IOPIN_CACHE/headers" "$IOPIN_CACHE/kmod"
	kmod_fetch_headers "$rel" "$ver" "$hdr" ||
		{ kmod_why "$out.why" "linux-headers-$rel $ver: cannot fetch the headers packages"; return 1; }
	text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$hdr/root/usr/src/linux-headers-$rel/.config")
	cc=${text%% *}
	if [[ -z $cc ]] || ! command -v "$cc" >/dev/null 2>&1 ||
	   [[ $("$cc" --version 2>/dev/null | head -n 1) != "$text" ]]; then
		if ((EUID != 0)); then
			kmod_why "$out.why" "kernel $rel was built with \"$text\", which this host lacks; a build root with it needs root (chroot)"
			return 1
		fi
		if ! root=$(kmod_buildroot "$text" "$(cat "$hdr/kbuild.depends" 2>/dev/null)"); then
			# That exact build is gone from the archive: the host's
			# gcc-N of the same major, if it has one, is close enough.
			command -v "$cc" >/dev/null 2>&1 ||
				{ kmod_why "$out.why" "kernel $rel was built with \"$text\": neither this host nor the archive has it"; return 1; }
			warn "kernel $rel was built with \"$text\"; building kmod/ with this host's $("$cc" --version | head -n 1)"
			root=""
		fi
	fi
	tmp=$out.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp" && cp "$TOP_DIR"/kmod/Kbuild "$TOP_DIR"/kmod/*.[ch] "$tmp/" || return 1
	t0=$(now)
	kmod_make "$root" "$hdr/root/usr/src/linux-headers-$rel" "$tmp" "$tmp/build.log"
	failed=""
	for ko in $(sed -n 's/^obj-m *[:+]*= *//p' "$tmp/Kbuild"); do
		[[ -f $tmp/${ko%.o}.ko ]] || failed+=" ${ko%.o}"
	done
	# One object that does not compile stops kbuild before it links any
	# module (make -k or not): then each module on its own, so that the
	# others are built (5.10: a livepatch mutant of a 6.x function).
	if [[ -n $failed ]]; then
		for ko in $failed; do
			mkdir -p "$tmp/one-$ko" && cp "$tmp/$ko.c" "$tmp/one-$ko/" &&
				{ ! compgen -G "$tmp/*.h" >/dev/null || cp "$tmp"/*.h "$tmp/one-$ko/"; } &&
				echo "obj-m := $ko.o" >"$tmp/one-$ko/Kbuild" || { rm -rf "$tmp"; return 1; }
			kmod_make "$root" "$hdr/root/usr/src/linux-headers-$rel" "$tmp/one-$ko" "$tmp/one-$ko/build.log"
			{ echo "== $ko on its own"; cat "$tmp/one-$ko/build.log"; } >>"$tmp/build.log"
			[[ -f $tmp/one-$ko/$ko.ko ]] && mv "$tmp/one-$ko/$ko.ko" "$tmp/" && failed=${failed/ $ko/}
		done
	fi
	if ! compgen -G "$tmp/*.ko" >/dev/null; then
		mv -f "$tmp/build.log" "$out.failed.log"
		rm -rf "$tmp"
		kmod_why "$out.why" "building kmod/ for $rel with \"$text\" failed (log: $out.failed.log)"
		tail -n 20 "$out.failed.log" >&2
		return 1
	fi
	[[ -n $failed ]] && warn "kmod/ for $rel: not built (see $out/build.log):$failed"
	echo "built in $(elapsed "$t0") s with \"$text\"${root:+ in $root}${failed:+; not built:$failed}" >>"$tmp/build.log"
	find "$tmp" -mindepth 1 -maxdepth 1 ! -name '*.ko' ! -name build.log -exec rm -rf {} +
	touch "$tmp/.done"
	rm -rf "$out" "$out.why" && mv "$tmp" "$out" && echo "$out"
}

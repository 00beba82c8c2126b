# SPDX-License-Identifier: GPL-2.0-only
#
# iopin's own kernel modules (kmod/) for a Debian kernel (sourced by
# vm/run-vm.sh, and by kmod/build.sh).
#
# kmod_build_debian RELEASE VERSION: build kmod/*.c against Debian's own
# headers for that kernel: linux-headers-RELEASE=VERSION and the two
# packages it depends on (linux-headers-*-common, linux-kbuild-*), fetched
# with apt-get download and extracted (never installed) into
# $IOPIN_CACHE/headers/RELEASE_VERSION. Their Makefile includes the common
# tree by its absolute /usr/src path: the copy points it at the extracted
# one. Built once per release and kmod/ source hash into
# $IOPIN_CACHE/kmod/RELEASE-HASH/ (the .ko files and build.log); prints
# that directory. Fails (with the reason on stderr) when the headers or the
# compiler are missing; the tests that need the modules then SKIP.

kmod_src_hash() {
	cat "$TOP_DIR"/kmod/Kbuild "$TOP_DIR"/kmod/*.c "$TOP_DIR"/vm/lib/kmod.sh | short_hash
}

kmod_fetch_headers() {
	local rel=$1 ver=$2 dir=$3 tmp deb dep pkgs
	[[ -f $dir/.done ]] && return 0
	tmp=$dir.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp/deb" || return 1
	(cd "$tmp/deb" && apt-get -q download "linux-headers-$rel=$ver" >/dev/null 2>&1) ||
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
	(cd "$tmp/deb" && apt-get -q download "${pkgs[@]}" >/dev/null 2>&1) ||
		{ warn "apt-get download ${pkgs[*]} failed"; rm -rf "$tmp"; return 1; }
	for deb in "$tmp"/deb/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp/deb"
	# "include /usr/src/linux-headers-X-common/Makefile": into this tree.
	sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
		"$tmp/root/usr/src/linux-headers-$rel/Makefile" || { rm -rf "$tmp"; return 1; }
	sed -i "s|$tmp/|$dir/|" "$tmp/root/usr/src/linux-headers-$rel/Makefile"
	# Without vmlinux, kbuild skips the modules' BTF (it needs pahole,
	# which the host may lack; the modules need no BTF).
	rm -f "$tmp/root/usr/src/linux-headers-$rel/vmlinux"
	touch "$tmp/.done"
	rm -rf "$dir" && mv "$tmp" "$dir"
}

kmod_build_debian() {
	local rel=$1 ver=$2 hdr out tmp cc t0
	hdr=$IOPIN_CACHE/headers/${rel}_$ver
	out=$IOPIN_CACHE/kmod/$rel-$(kmod_src_hash)
	if [[ -f $out/.done ]]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$IOPIN_CACHE/headers" "$IOPIN_CACHE/kmod"
	kmod_fetch_headers "$rel" "$ver" "$hdr" || return 1
	rm -f "$hdr/root/usr/src/linux-headers-$rel/vmlinux"
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$hdr/root/usr/src/linux-headers-$rel/.config")
	command -v "${cc:-gcc}" >/dev/null 2>&1 ||
		{ warn "kernel $rel was built with ${cc:-?}, which this host lacks"; return 1; }
	tmp=$out.tmp$$
	rm -rf "$tmp" && mkdir -p "$tmp" && cp "$TOP_DIR"/kmod/Kbuild "$TOP_DIR"/kmod/*.c "$tmp/" || return 1
	t0=$(now)
	if ! make -C "$hdr/root/usr/src/linux-headers-$rel" M="$tmp" modules >"$tmp/build.log" 2>&1; then
		warn "building kmod/ for $rel failed; the last lines of $out.failed.log:"
		tail -n 20 "$tmp/build.log" >&2
		mv -f "$tmp/build.log" "$out.failed.log"
		rm -rf "$tmp"
		return 1
	fi
	echo "built in $(elapsed "$t0") s" >>"$tmp/build.log"
	find "$tmp" -mindepth 1 -maxdepth 1 ! -name '*.ko' ! -name build.log -exec rm -rf {} +
	touch "$tmp/.done"
	rm -rf "$out" && mv "$tmp" "$out" && echo "$out"
}

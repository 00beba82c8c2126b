# SPDX-License-Identifier: GPL-2.0-only
#
# Shared helpers for the iopin VM runner (sourced, not executed).
#
# Conventions: everything meant for the user goes to stderr, prefixed with
# "iopin-vm:", so that stdout carries nothing but the KTAP stream.

# Exit codes of vm/run-vm.sh (see vm/README.md, "Exit codes").
# shellcheck disable=SC2034  # not every script uses every code
readonly EXIT_PASS=0		# suite ran, nothing failed
readonly EXIT_FAIL=1		# a test failed, or the suite hung/killed the kernel
readonly EXIT_USAGE=2		# bad command line
readonly EXIT_SKIP_BISECT=125	# kernel could not be tested (git bisect "skip")
readonly EXIT_SETUP=255		# host-side problem (no qemu, download, suite build)

IOPIN_CACHE=${IOPIN_CACHE:-$HOME/.cache/iopin}

msg()  { printf 'iopin-vm: %s\n' "$*" >&2; }
warn() { printf 'iopin-vm: warning: %s\n' "$*" >&2; }

# die CODE MESSAGE...: print an error and exit with CODE.
die() {
	local code=$1
	shift
	printf 'iopin-vm: error: %s\n' "$*" >&2
	exit "$code"
}

# need_tool TOOL [PACKAGE]: fail with a setup error if TOOL is not installed.
need_tool() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$EXIT_SETUP" "'$1' not found; install the Debian package '${2:-$1}'"
}

# with_cache_lock CMD...: run CMD while holding the cache lock, so that two
# runs started at the same time do not populate the same cache entry twice.
with_cache_lock() {
	mkdir -p "$IOPIN_CACHE"
	(
		flock 9 || exit "$EXIT_SETUP"
		"$@"
	) 9>"$IOPIN_CACHE/.lock"
}

# file_stamp FILE: cheap identity of a file (size and mtime), for cache keys.
file_stamp() {
	stat -L -c '%s-%Y' "$1"
}

# short_hash: first 12 hex digits of the sha256 of stdin.
short_hash() {
	sha256sum | cut -c1-12
}

# now: wall clock in seconds with nanoseconds.
now() {
	date +%s.%N
}

# elapsed START [END]: seconds between two "now" readings, 2 decimals.
elapsed() {
	awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.2f", b - a }'
}

# magic_hex FILE OFFSET BYTES: raw bytes of FILE as a hex string ("7f454c46").
magic_hex() {
	od -An -v -t x1 -j "$2" -N "$3" "$1" 2>/dev/null | tr -d ' \n'
}

# is_elf FILE: true if FILE starts with the ELF magic.
is_elf() {
	[[ -f $1 && $(magic_hex "$1" 0 4) == 7f454c46 ]]
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# iopin: the iopin suite's runner (run_tests.sh) as installed by the Debian
# package under /usr/lib/iopin. With --vm, the guest gets this installed
# suite (there is no source tree to build one from).
IOPIN_SUITE_DIR=${IOPIN_SUITE_DIR:-/usr/lib/iopin}
export IOPIN_SUITE_DIR
exec /usr/lib/iopin/run_tests.sh "$@"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-check: load tests/warnmod, which does WARN_ON(1). This suite
# passes, yet the boot must be judged failed because of the kernel report;
# `make check` runs it in a boot of its own and asserts exactly that.
# vm-expect: kernel-report
# vm-timeout: 60
. "$(dirname "$0")/lib.sh"

require_root
[ -f "$XTRW_WARNMOD_KO" ] || ksft_exit_fail "no test module at $XTRW_WARNMOD_KO (make vm-build)"

kmsg "loading warnmod: a WARNING follows on purpose"
check "warnmod loads (raising a WARNING)" insmod "$XTRW_WARNMOD_KO"
check "kernel taint has W (warning)" \
	bash -c '(( $(cat /proc/sys/kernel/tainted) & (1 << 9) ))'
check "warnmod unloads" rmmod warnmod
ksft_exit

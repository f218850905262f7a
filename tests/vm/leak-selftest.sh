#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/leak-selftest.sh KO: proves that the leak check of the stress
# suite (tests/selftests/50_stress.sh) fails on a real leak. KO is a build
# of the module that leaks one table array in N on purpose (make
# check-leak-selftest builds it with RW_LEAK_EVERY=N). The stress suite
# runs with it, for LEAK_STRESS_SECONDS (default 10) instead of 60; this
# passes only when that boot fails because of the suite alone (no kernel
# report, no timeout), the leak check after the run failed, and it counted
# leaked objects. Everything else of the suite has to pass (the baseline
# may fail too: the warm-up leaks as well): a leak check that fails for
# another reason proves nothing.
#
# Exit status 0 when the leak was caught; prints "leak-selftest: PASS" or
# "leak-selftest: FAIL: <why>" last.

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KO=${1:?usage: leak-selftest.sh LEAKING-KO}
[ -f "$KO" ] || { echo "leak-selftest: FAIL: no module $KO"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

VM_APPEND="${VM_APPEND:-} xtrw_stress_seconds=${LEAK_STRESS_SECONDS:-10}" \
	"$SRC/tests/vm/run.sh" --no-build --no-last-failure --quiet \
	--module "$KO" --verdict "$TMP/verdict" 50_stress > "$TMP/log" 2>&1
rc=$?
cat "$TMP/log"

run=$(sed -n 's/^run=//p' "$TMP/verdict" 2>/dev/null)
out=$run/guest/suites/50_stress/stdout
why=()
[ "$rc" = 1 ] || why+=("harness exit $rc, expected 1 (a suite failed)")
grep -qx 'suite_rc_50_stress=1' "$TMP/verdict" 2>/dev/null ||
	why+=("the suite did not fail ($(grep '^suite_rc_' "$TMP/verdict" 2>/dev/null))")
grep -qx 'kernel_report=0' "$TMP/verdict" 2>/dev/null || why+=("the kernel reported a problem")
# The points that may fail: the leak check after the run, which must, and
# the baseline (the warm-up leaks too, before the baseline is taken).
mapfile -t notok < <(grep '^not ok' "$out" 2>/dev/null)
other=0
for a in "${notok[@]}"; do
	case $a in
	*"module's own"*) ;;
	*) other=$((other + 1)); echo "leak-selftest: another point failed: $a" ;;
	esac
done
[ "$other" = 0 ] || why+=("$other points other than the leak check failed")
grep -q "^not ok [0-9]* - the module's own objects:" "$out" 2>/dev/null ||
	why+=("the leak check after the run did not fail")
fig=$(sed -n 's/^# leak-figures: //p' "$out" 2>/dev/null)
leaked=$(echo "$fig" | sed -n 's/.*leaked=\(-\{0,1\}[0-9]*\).*/\1/p')
[ "${leaked:-0}" -gt 0 ] 2>/dev/null || why+=("no leaked objects counted (${fig:-no figures})")

echo "leak-selftest: module $KO; run ${run#"$SRC"/}"
echo "leak-selftest: ${fig:-no figures}"
if [ ${#why[@]} -eq 0 ]; then
	echo "leak-selftest: PASS: the leak check caught $leaked leaked objects"
	exit 0
fi
printf 'leak-selftest: FAIL: %s\n' "${why[@]}"
exit 1

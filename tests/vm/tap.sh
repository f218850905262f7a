#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP counting shared by the unit-test runner (make unit), the VM harness
# (tests/vm/run.sh) and make check (tests/vm/check.sh).
#
# A test point is a line starting with "ok" or "not ok". "ok ... # SKIP"
# counts as skipped, "not ok ... # TODO" as skipped too (known breakage).
# Output without test points counts as one point judged by the exit status.
#
# Sourced: tap_count FILE RC  prints "passed failed skipped".
# Run:     tap.sh unit BIN...  runs unit-test programs and prints a summary;
#          with TAP_COUNTS=FILE it also writes "passed failed skipped" there.

# Exit status of a skipped program: 4 (kselftest) or 77 (automake).
tap_count() {
	local file=$1 rc=$2
	awk -v rc="$rc" '
		/^ok([ \t]|$)/ {
			if (tolower($0) ~ /#[ \t]*skip/) s++; else p++
			n++
			next
		}
		/^not ok([ \t]|$)/ {
			if (tolower($0) ~ /#[ \t]*todo/) s++; else f++
			n++
			next
		}
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; hasplan = 1 }
		END {
			if (n == 0) {
				if (rc == 0) p = 1
				else if (rc == 4 || rc == 77) s = 1
				else f = 1
			} else {
				# A failing exit the points do not explain is a failure.
				if (rc != 0 && rc != 4 && rc != 77 && f == 0)
					f++
				# So is a plan the points do not match.
				if (hasplan && plan != n)
					f++
			}
			printf "%d %d %d\n", p, f, s
		}' "$file"
}

# The programs run side by side, as many as the host has CPUs (the fuzz
# targets' short runs are 10 s each); their output is printed in order.
tap_run_unit() {
	local P=0 F=0 S=0 bin name log rc p f s jobs=0 max
	max=$(nproc 2>/dev/null || echo 1)
	for bin in "$@"; do
		rm -f "$bin.rc"
		if [ "$jobs" -ge "$max" ]; then
			wait -n
			jobs=$((jobs - 1))
		fi
		{
			timeout -k 5 "${UNIT_TIMEOUT:-120}" "$bin" > "$bin.log" 2>&1
			echo $? > "$bin.rc"
		} &
		jobs=$((jobs + 1))
	done
	wait
	for bin in "$@"; do
		name=${bin##*/}
		log=$bin.log
		echo "# ---- unit: $name ----"
		rc=$(cat "$bin.rc" 2> /dev/null) || rc=1
		cat "$log"
		read -r p f s < <(tap_count "$log" "$rc")
		P=$((P + p)) F=$((F + f)) S=$((S + s))
		case $rc in
		0) echo "# $name: $p passed, $f failed, $s skipped" ;;
		4|77) echo "# $name: skipped (exit $rc)" ;;
		124|137) echo "# $name: TIMED OUT after ${UNIT_TIMEOUT:-120}s" ;;
		*) echo "# $name: FAILED (exit $rc)" ;;
		esac
	done
	[ -n "${TAP_COUNTS:-}" ] && echo "$P $F $S" > "$TAP_COUNTS"
	echo "unit: $P passed, $F failed, $S skipped"
	[ "$F" = 0 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	unit) shift; tap_run_unit "$@" ;;
	count) shift; tap_count "$@" ;;
	*) echo "usage: $0 unit BIN... | count FILE RC" >&2; exit 2 ;;
	esac
fi

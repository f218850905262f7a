#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check [T=suite[,suite...]]
#
# Stages: dependencies present, build for the VM kernel (module with W=1 and
# -Werror, tests/warnmod, plugin), style (checkpatch), unit tests, the
# harness self-check boots (a WARNING must fail a boot, a hang before init
# must end one), the regular suites in boots that run side by
# side (a suite's "# vm-boot: NAME" tag; VM_BOOTS=1 for one), then the install
# paths (make check-install: make install with DESTDIR, DKMS for the test
# kernel and the boot of the "# vm-run: install" suite, 30_dkms; only with
# the default kernel, not KERNEL=rt or debug). With T= only the
# named suites run (after deps and build): a suite marked
# "# vm-expect: kernel-report" runs as a self-check in a boot of its own,
# the others share one boot.
#
# The last line is "N passed, N failed, N skipped": TAP test points of the
# unit tests and suites, plus one point each for style, the self-check and
# the kernel log of each boot. Exit status 0 only when nothing failed.

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
MAKE=(make --no-print-directory -C "$SRC")
RUN=$SRC/tests/vm/run.sh
# shellcheck source=tests/vm/slot.sh
. "$SRC/tests/vm/slot.sh"

P=0 F=0 S=0
FAILED=()
T0=$(date +%s)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

stage() { printf '\n==== [%ss] %s ====\n' "$(($(date +%s) - T0))" "$*"; }
point() {
	case $1 in
	pass) P=$((P + 1)); echo "ok - $2" ;;
	fail) F=$((F + 1)); FAILED+=("$2"); echo "not ok - $2" ;;
	skip) S=$((S + 1)); echo "ok - $2 # SKIP" ;;
	esac
}
# self_point NAME OK-LINE LOGS: a harness self-check's point, passed when
# the caller's why[] is empty, else failed with each reason and its run
# directory ($run) with the logs to read
self_point() {
	if [ ${#why[@]} -eq 0 ]; then
		echo "check: self-check OK: $2"
		point pass "harness self-check: $1"
	else
		printf 'check: self-check FAILED: %s\n' "${why[@]}"
		echo "check: its run: ${run:-?} ($3)"
		point fail "harness self-check: $1"
	fi
}
add_counts() {
	local p f s
	read -r p f s < "$1" || return 1
	P=$((P + p)) F=$((F + f)) S=$((S + s))
}
# run_counts FILE RC DESC: add the counts a run wrote to FILE; when RC is
# not 0, DESC is a failure, and counted as one should the counts show none
# (a run that failed never ends as 0 failed). Returns RC's truth.
run_counts() {
	[ -s "$1" ] && add_counts "$1"
	[ "$2" -eq 0 ] && return 0
	FAILED+=("$3")
	[ -s "$1" ] && [ "$(cut -d' ' -f2 "$1")" -gt 0 ] || F=$((F + 1))
	return 1
}
# failed_points FILE BOOT: the failed test points a boot printed (nested
# TAP, any depth), named in the final summary, so that the last lines of a
# run say what failed without the whole log
failed_points() {
	local l n=0
	while IFS= read -r l; do
		n=$((n + 1))
		[ "$n" -gt 20 ] && { FAILED+=("  (more in the log above)"); break; }
		FAILED+=("  [$2] $l")
	done < <(sed -n 's/^[#[:space:]]*\(not ok .*\)$/\1/p' "$1" | grep -v '# TODO')
}
finish() {
	local el=$(($(date +%s) - T0))
	echo
	[ ${#FAILED[@]} -gt 0 ] && printf 'check: FAILED: %s\n' "${FAILED[@]}"
	echo "check: took $((el / 60))m$((el % 60))s"
	echo "$P passed, $F failed, $S skipped"
	[ "$F" -eq 0 ] && [ "${1:-0}" -eq 0 ]
	exit $?
}

# ---- which suites ----
# suite_tag SUITE NAME: the value of "# vm-NAME: VALUE" in the suite's
# header (the comment lines before its first command).
suite_tag() {
	sed -n "/^[^#]/q; s/^# vm-$2: *\\([^ ]*\\).*/\\1/p" "tests/selftests/$1.sh" | head -n1
}
resolve() {
	local want=${1##*/} f n
	want=${want%.sh}
	for f in tests/selftests/[0-9][0-9]_*.sh; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .sh)
		if [ "$n" = "$want" ] || [ "${n#[0-9][0-9]_}" = "$want" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}
# Bash reads a script as it runs it: everything runs from main, read in
# full before it starts, so editing this file mid-run is safe.
main() {
	local a s f rc why run vmrc irc up uf us
	local -a SELF=() REG=()
	if [ $# -gt 0 ]; then
		for a in ${*//,/ }; do
			s=$(resolve "$a") || { echo "check: no suite '$a' in tests/selftests/" >&2; exit 2; }
			if [ "$(suite_tag "$s" expect)" = kernel-report ]; then SELF+=("$s"); else REG+=("$s"); fi
		done
	else
		for f in tests/selftests/[0-9][0-9]_*.sh; do
			[ -e "$f" ] || continue
			s=$(basename "$f" .sh)
			# "# vm-run: install": only in the boot of the install stage.
			[ "$(suite_tag "$s" run)" = install ] && continue
			if [ "$(suite_tag "$s" expect)" = kernel-report ]; then SELF+=("$s"); else REG+=("$s"); fi
		done
	fi

	# ---- deps ----
	stage "dependencies"
	if ! "${MAKE[@]}" deps-check; then
		echo "check: dependencies missing: run 'make deps' (as root), then 'make check' again"
		point fail "dependencies present"
		finish 1
	fi

	# ---- build ----
	stage "build for the VM kernel"
	if ! "${MAKE[@]}" vm-build; then
		point fail "build"
		finish 1
	fi
	if ! ls userspace/*.so > /dev/null 2>&1; then
		echo "check: NOTE: no userspace/libxt_ratewin.so: suites that need it skip"
	fi

	if [ $# -eq 0 ]; then
		# ---- style ----
		stage "style (checkpatch)"
		if "${MAKE[@]}" style; then point pass "style"; else point fail "style"; fi

		# ---- unit ----
		stage "unit tests"
		rm -f "$TMP/unit"
		if ! TAP_COUNTS=$TMP/unit "${MAKE[@]}" unit; then
			[ -s "$TMP/unit" ] || point fail "unit tests build"
		fi
		if [ -s "$TMP/unit" ]; then
			read -r up uf us < "$TMP/unit"
			add_counts "$TMP/unit"
			[ "$uf" -gt 0 ] && FAILED+=("unit tests ($uf failed)")
		fi
	else
		echo "check: T=$* given: style and unit tests not run (plain 'make check' runs them)"
	fi

	# Both boots in one go: hold a VM slot from here to the end.
	if [ $((${#SELF[@]} + ${#REG[@]})) -gt 0 ]; then
		: "${CACHE_DIR:=/var/cache/xt_ratewin}"
		vm_slot_acquire
	fi

	# ---- harness self-check: a suite that must make the boot fail ----
	# Its boot runs beside the suites' boots; it is judged after them.
	local -a spids=()
	for s in "${SELF[@]}"; do
		"$RUN" --no-build --no-last-failure --quiet --counts "$TMP/self.$s.counts" \
			--verdict "$TMP/self.$s.verdict" "$s" > "$TMP/self.$s.log" 2>&1 &
		spids+=($!)
	done
	# and a boot that hangs before init (its init is "sleep"): the console
	# watchdog must end it within seconds of the silence, not at the
	# whole-boot timeout, boot it once more, and judge it "did not boot"
	# The silence allowed must exceed the kernel's own silences before
	# init: 20 s, and 120 s on the debug kernel (its early boot, beside
	# the other boots, went quiet for over 20 s at 45 s, before init).
	local stallpid="" stall_s=20 stall_max=300
	if [ "${KERNEL:-generic}" = debug ]; then
		stall_s=120 stall_max=900
	fi
	if [ ${#SELF[@]} -gt 0 ]; then
		VM_STALL_TIMEOUT=$stall_s VM_APPEND="rdinit=/bin/busybox -- sleep 3600" \
			"$RUN" --no-build --no-last-failure --quiet \
			--verdict "$TMP/stall.verdict" 01_load > "$TMP/stall.log" 2>&1 &
		stallpid=$!
	fi

	# ---- the suites: boots side by side ----
	# A suite's "# vm-boot: NAME" puts it in boot NAME (default: main);
	# the boots run at the same time, so the wall time is the longest
	# boot's, not the sum. Boots named heavy* hold the suites that keep
	# both vCPUs busy (floods, fuzzers, stress) and run niced, so the
	# timing-bound suites of the other boots get the host's cores when
	# they need them.
	# VM_BOOTS=1 puts every suite in one boot.
	vmrc=0
	if [ ${#REG[@]} -gt 0 ]; then
		local -A group=()
		local -a names=() pids=()
		local b i nb
		for s in "${REG[@]}"; do
			b=main
			[ "${VM_BOOTS:-}" = 1 ] || b=$(suite_tag "$s" boot)
			b=${b:-main}
			[ -n "${group[$b]:-}" ] || names+=("$b")
			group[$b]+=" $s"
		done
		nb=${#names[@]}
		stage "VM suites: ${REG[*]}"
		[ "$nb" -gt 1 ] && for b in "${names[@]}"; do
			echo "check: boot $b:${group[$b]}"
		done
		for ((i = 0; i < nb; i++)); do
			b=${names[$i]}
			rm -f "$TMP/vm.$b.counts" "$TMP/vm.$b.rc"
			local -a pre=() tag=(cat)
			if [ "$nb" -gt 1 ]; then
				tag=(sed -u "s/^/[$b] /")
				[[ $b == heavy* ]] && pre=(nice -n 10)
			fi
			# the pipeline ends with its last line printed; the boot's
			# exit status goes through a file
			# shellcheck disable=SC2086
			{
				"${pre[@]}" "$RUN" --no-build --counts "$TMP/vm.$b.counts" ${group[$b]}
				echo $? > "$TMP/vm.$b.rc"
			} 2>&1 | tee "$TMP/vm.$b.out" | "${tag[@]}" &
			pids+=($!)
		done
		for ((i = 0; i < nb; i++)); do
			b=${names[$i]}
			wait "${pids[$i]}"
			rc=$(cat "$TMP/vm.$b.rc" 2> /dev/null) || rc=1
			run_counts "$TMP/vm.$b.counts" "$rc" "VM boot $b (harness exit $rc)" ||
				{ vmrc=$rc; failed_points "$TMP/vm.$b.out" "$b"; }
		done
	fi

	# The harness has to judge the self-check boot "kernel reported a
	# problem" (exit 3) although the suite itself passed, and it has to have
	# seen the WARNING both in the log text and in the taint flags.
	local k=0
	for s in "${SELF[@]}"; do
		wait "${spids[$k]}"
		rc=$?
		k=$((k + 1))
		stage "harness self-check: $s must fail its boot with a kernel report"
		cat "$TMP/self.$s.log"
		why=()
		[ "$rc" = 3 ] || why+=("harness exit $rc, expected 3 (kernel reported a problem)")
		grep -qx 'kernel_report=1' "$TMP/self.$s.verdict" 2>/dev/null || why+=("no kernel report in the verdict")
		grep -qx "suite_rc_$s=0" "$TMP/self.$s.verdict" 2>/dev/null || why+=("the suite itself did not pass")
		run=$(sed -n 's/^run=//p' "$TMP/self.$s.verdict" 2>/dev/null)
		grep -q 'WARNING:' "$run/kernel-report.txt" 2>/dev/null || why+=("the WARNING line was not caught in the log")
		grep -q '^taint: .*W' "$run/kernel-report.txt" 2>/dev/null || why+=("the W taint flag was not caught")
		self_point "$s fails its boot with a kernel report" \
			"the harness failed that boot because of the kernel report" \
			"console.log, kernel-report.txt"
	done

	if [ -n "$stallpid" ]; then
		wait "$stallpid"
		rc=$?
		stage "harness self-check: a boot hung before init must end as a stall"
		cat "$TMP/stall.log"
		why=()
		[ "$rc" = 5 ] || why+=("harness exit $rc, expected 5 (did not boot)")
		grep -qx 'stalled=1' "$TMP/stall.verdict" 2>/dev/null || why+=("the verdict does not say stalled")
		grep -qx 'boot_attempts=2' "$TMP/stall.verdict" 2>/dev/null || why+=("the stalled boot was not booted once more")
		run=$(sed -n 's/^run=//p' "$TMP/stall.verdict" 2>/dev/null)
		grep -q 'Run /bin/busybox as init process' "$run/console.log" 2>/dev/null ||
			why+=("the kernel did not reach the hanging init")
		st=$(sed -n 's/^total_seconds=//p' "$TMP/stall.verdict" 2>/dev/null)
		[ -n "$st" ] && [ "${st%.*}" -lt "$stall_max" ] || why+=("it took ${st:-?} s, not ended by the watchdog")
		self_point "a boot hung before init ends as a stall" \
			"the harness ended the hung boot after $stall_s s of silence, twice (${st} s the second time)" \
			"console.log"
	fi

	# ---- install paths: make install, DKMS and the boot of 30_dkms ----
	# (still holding the VM slot: check-install then takes no other)
	irc=0
	if [ $# -eq 0 ] && [ "${KERNEL:-generic}" = generic ]; then
		stage "install and DKMS (make check-install)"
		rm -f "$TMP/install.counts"
		"${MAKE[@]}" check-install COUNTS="$TMP/install.counts" 2>&1 |
			tee "$TMP/install.out"
		irc=${PIPESTATUS[0]}
		run_counts "$TMP/install.counts" "$irc" "install checks (make check-install)" ||
			failed_points "$TMP/install.out" install
	fi

	[ $irc -eq 0 ] || vmrc=1
	finish $vmrc
}

main "$@"

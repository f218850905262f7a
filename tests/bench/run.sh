#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/run.sh: `make bench`. Boots the VM kernel once (qemu,
# multi-threaded TCG, 2 vCPUs) through tests/vm/run.sh, runs
# tests/bench/guest.sh in it, then turns the raw numbers into a markdown
# table (printed), results.json and PNG plots under results/bench/<stamp>/.
#
# A benchmark, not a test: every figure is a ratio against references
# measured in the same boot; nothing here fails on a number. The exit status
# says only whether the run itself worked.
#
# Environment (all optional):
#   BENCH_QUICK=1       a short smoke run (fewer sources, rounds and stages)
#   BENCH_*             passed to the guest; see the top of tests/bench/guest.sh
#                       (BENCH_ROUNDS, BENCH_SECS, BENCH_SOURCES, BENCH_GC,
#                       BENCH_SCALE, BENCH_PERF, ...)
#   BENCH_RESULTS       results root (default results/bench in the checkout)
#   VM_MEM (4096), VM_SMP (2), VM_ACCEL (tcg,thread=multi)   for tests/vm/run.sh
#   BENCH_ANALYZE=DIR   only redo the analysis and plots of an earlier run

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$SRC/tests/bench

log() { echo "bench: $*"; }
die() { echo "bench: error: $*" >&2; exit 1; }

# Profiles: perf report on the host, against the guest's kallsyms.
perf_reports() { # results dir
	local d=$1/raw/perf f
	[ -d "$d" ] || return 0
	command -v perf > /dev/null || { log "perf not installed: profiles left unreported"; return 0; }
	for f in "$d"/*.data; do
		[ -e "$f" ] || continue
		[ -s "${f%.data}.txt" ] && continue
		perf report -i "$f" --kallsyms="$d/kallsyms" --stdio --no-children \
			--sort dso,sym --percent-limit 0.7 2> /dev/null |
			grep -v '^$' > "${f%.data}.txt"
	done
	# ratewin's profiles: its samples by code block, with source lines
	for f in "$d"/*rw-*.data; do
		[ -e "$f" ] || continue
		[ -s "$d/xt_ratewin.ko" ] || break
		[ -s "${f%.data}.hot.txt" ] && continue
		python3 "$BENCH/hotspots.py" "$d" "$(basename "${f%.data}")" \
			> "${f%.data}.hot.txt" 2>&1
	done
}

analyze() { # results dir
	local out=$1 hl rw
	perf_reports "$out"
	python3 "$BENCH/analyze.py" "$out" || return 1
	if command -v gnuplot > /dev/null; then
		local args=(-e "dir='$out'")
		hl=$out/gc-hashlimit.dat
		rw=$out/gc-rw-rate.dat
		[ -s "$hl" ] && [ -s "$rw" ] && args+=(-e "gc_hl='$hl'; gc_rw='$rw'")
		gnuplot "${args[@]}" "$BENCH/plot.gp" 2> "$out/gnuplot.err" ||
			log "gnuplot failed: $(head -n3 "$out/gnuplot.err")"
		[ -s "$out/gnuplot.err" ] || rm -f "$out/gnuplot.err"
	else
		log "gnuplot not installed (apt-get install gnuplot-nox): no PNG"
	fi
}

main() {
if [ -n "${BENCH_ANALYZE:-}" ]; then
	analyze "$BENCH_ANALYZE"
	exit $?
fi

t0=$(date +%s)
root=${BENCH_RESULTS:-$SRC/results/bench}
stamp=$(date +%Y%m%d-%H%M%S)
out=$root/$stamp
mkdir -p "$out" || die "cannot create $out"
case $out in
"$SRC"/*) ;;
*) die "BENCH_RESULTS must be inside the checkout (the guest reads its config there)" ;;
esac

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_SOURCES:=1 65536}"
	: "${BENCH_ROUNDS:=2}"
	: "${BENCH_SECS:=0.5}"
	: "${BENCH_GC_N:=65536}"
	: "${BENCH_GC_SECS:=4}"
	: "${BENCH_SCALE_SOURCES:=1}"
	: "${BENCH_SCALE_ROUNDS:=1}"
	: "${BENCH_PERF_AT:=65536}"
	: "${BENCH_PERF_SECS:=1}"
	export BENCH_SOURCES BENCH_ROUNDS BENCH_SECS BENCH_GC_N BENCH_GC_SECS \
		BENCH_SCALE_SOURCES BENCH_SCALE_ROUNDS BENCH_PERF_AT BENCH_PERF_SECS
fi

# The guest's configuration: every BENCH_* of the environment.
{
	echo "# written by tests/bench/run.sh"
	while IFS='=' read -r k _; do
		case $k in
		BENCH_QUICK|BENCH_RESULTS|BENCH_ANALYZE) ;;
		BENCH_*) printf '%s=%q\n' "$k" "${!k}" ;;
		esac
	done < <(env | grep '^BENCH_' | sort)
	echo "BENCH_OUT=/run/xtrw/bench"
} > "$out/guest-config.sh"

host_info() {
	echo "qemu=$(qemu-system-x86_64 --version | head -n1)"
	echo "accel=${VM_ACCEL:-tcg,thread=multi}, -smp ${VM_SMP:-2}, -m ${VM_MEM:-4096}"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) x $(nproc)"
	echo "git=$(git -C "$SRC" describe --always --dirty 2> /dev/null)"
}
{
	host_info
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/host.txt"

export VM_SMP=${VM_SMP:-2}
export VM_MEM=${VM_MEM:-4096}
export VM_ACCEL=${VM_ACCEL:-tcg,thread=multi}
# slab_nomerge: every cache shows in /proc/slabinfo under its own name, so
# memory per entry can be attributed.
export VM_APPEND="${VM_APPEND:-} slab_nomerge xtrw_bench=$out/guest-config.sh"
export VM_SUITE_TIMEOUT=${VM_SUITE_TIMEOUT:-2400}

log "results: ${out#"$SRC"/}"
log "booting the VM (${VM_ACCEL}, ${VM_SMP} vCPUs, ${VM_MEM} MB); this takes a while"

# The host is shared: a vCPU thread of this VM may wait for a host CPU in
# the middle of a measurement, which the guest's clock cannot see. So the
# CPU time of each qemu thread (schedstat, ns) is sampled every 50 ms into
# host-cpu.log; analyze.py divides each measurement's packets by the CPU
# time the busiest vCPU thread got in its window (guest and host clocks are
# matched through the sync/ files the guest writes: their mtime is the
# host's time of the write, their content the guest's).
sample_cpu() {
	local pid="" t a line
	# (the harness may queue the run behind another VM for a while)
	for _ in $(seq 1 3600); do
		sleep 1
		pid=$(pgrep -n -f "xtrw_bench=$out/guest-config.sh" 2> /dev/null) && break
	done
	[ -n "$pid" ] || return
	echo "# qemu pid $pid: host-time tid:cpu-ns..." > "$out/host-cpu.log"
	while kill -0 "$pid" 2> /dev/null; do
		line=$EPOCHREALTIME
		for t in /proc/"$pid"/task/*; do
			read -r a _ < "$t/schedstat" 2> /dev/null && line+=" ${t##*/}:$a"
		done
		echo "$line" >> "$out/host-cpu.log"
		sleep 0.05
	done
}
sample_cpu &
wpid=$!

# The guest runs a copy: the run is reproducible from its directory, and an
# edit of the checkout meanwhile cannot change a script while it runs.
cp "$BENCH/guest.sh" "$out/guest.sh"
"$SRC/tests/vm/run.sh" --quiet --script "$out/guest.sh" > "$out/vm.txt" 2>&1
vmrc=$?
for _ in $(seq 1 10); do
	kill -0 "$wpid" 2> /dev/null || break
	sleep 1
done
kill "$wpid" 2> /dev/null
wait "$wpid" 2> /dev/null

# The run directory, from the harness' "vm: run dir <dir>;" line (not
# tests/vm/out/latest: other runs may have moved it since).
run=$(sed -n 's/^vm: run dir \([^;]*\);.*/\1/p' "$out/vm.txt" | head -n1)
[ -n "$run" ] && run=$SRC/$run
{
	echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vm_run=${run#"$SRC"/}"
	echo "vm_exit=$vmrc"
} >> "$out/host.txt"
if [ -d "$run/guest/bench" ]; then
	cp -a "$run/guest/bench" "$out/raw"
else
	tail -n 40 "$out/vm.txt"
	die "the guest left no results (VM exit $vmrc; see ${out#"$SRC"/}/vm.txt)"
fi
[ $vmrc = 0 ] || log "VM run exit $vmrc (see ${out#"$SRC"/}/vm.txt); analysing what there is"

# (the analysis adds seconds, not minutes: the table can state the run time)
echo "run_seconds=$(($(date +%s) - t0))" >> "$out/host.txt"
analyze "$out" || die "analysis failed"
t1=$(date +%s)
ln -sfn "$stamp" "$root/latest"
echo
log "run time $((t1 - t0)) s"
log "table:   ${out#"$SRC"/}/table.md"
log "json:    ${out#"$SRC"/}/results.json"
for p in "$out"/*.png; do
	[ -e "$p" ] && log "plot:    ${p#"$SRC"/}"
done
[ -d "$out/raw/perf" ] && log "profiles: ${out#"$SRC"/}/raw/perf/"
exit $((vmrc == 0 ? 0 : 1))
}

# Parsed whole before it runs: editing this file during a run is harmless.
main "$@"

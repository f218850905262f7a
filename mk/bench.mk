# SPDX-License-Identifier: GPL-2.0
#
# make bench: per-packet cost, scale and memory of xt_ratewin against
# hashlimit, recent, connlimit and nft in one VM boot (tests/bench/).
# A benchmark, not a test: `make check` never runs it.

.PHONY: bench bench-quick bench-analyze

# Builds through tests/vm/run.sh (vm-build), boots, measures, analyses.
bench:
	@tests/bench/run.sh

# A short smoke run of every stage (a few minutes).
bench-quick:
	@BENCH_QUICK=1 tests/bench/run.sh

# Redo table, JSON and plots of a run: make bench-analyze R=results/bench/<stamp>
bench-analyze:
	@BENCH_ANALYZE=$(or $(R),$(SRC)/results/bench/latest) tests/bench/run.sh

HELP += "bench|benchmark in the VM: table, JSON, plots under results/bench/ (under 20 min)"
HELP += "bench-quick|a short smoke run of make bench"
HELP += "bench-analyze|redo the table and plots of a run (R=results/bench/<stamp>)"
DEPS_PACKAGES += gnuplot-nox linux-perf

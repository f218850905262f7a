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

# Instructions per decision (tests/bench/decide_insns.c) under callgrind:
# each shape's own code against rw_decide(). Userspace, no VM.
DECIDE_INSNS := $(BUILD)/decide_insns
$(DECIDE_INSNS): tests/bench/decide_insns.c kernel/ratewin_algo.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -I include/uapi -I kernel $< -o $@

.PHONY: bench-decide
bench-decide: $(DECIDE_INSNS)
	@command -v valgrind >/dev/null || { echo "bench-decide: valgrind is missing (make deps)"; exit 1; }
	@printf '| case | rw_decide() | rw_decide_shaped() |\n|---|---|---|\n'; \
	for c in $$($(DECIDE_INSNS) list); do \
		row="| $$c"; \
		for p in general shaped; do \
			out=$(BUILD)/decide_insns.$$c.$$p.cg; \
			res=$$(valgrind -q --tool=callgrind --toggle-collect=decide_$$p \
				--callgrind-out-file=$$out $(DECIDE_INSNS) $$c $$p) || exit 1; \
			m=$$(echo "$$res" | awk '{ print $$3 }'); \
			ir=$$(awk '/^totals:/ { print $$2 }' $$out); \
			row="$$row | $$(awk -v ir=$$ir -v m=$$m 'BEGIN { printf "%.1f", ir / m }')"; \
		done; \
		echo "$$row |"; \
	done

HELP += "bench-decide|instructions per decision, by shape, under callgrind (no VM)"
DEPS_PACKAGES += valgrind

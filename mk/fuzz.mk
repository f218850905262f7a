# SPDX-License-Identifier: GPL-2.0
#
# Fuzzing (tests/fuzz/, README there):
#   make fuzz           build the libFuzzer targets (clang, ASan, UBSan) and
#                       run each for FUZZ_SECONDS (default 300) on a working
#                       copy of its corpus; prints the cases tried per target
#                       and fails on any crash (kept in build/fuzz/crashes/)
#   make fuzz FUZZ_TARGETS=proc   just one (algo, proc, plugin)
#   make fuzz-merge     add what the last runs found (new coverage only,
#                       minimised) to tests/fuzz/corpus/, for committing
#   make fuzz-replay    run every target once over its committed corpus
# `make check` runs tests/unit/fuzz_*_test.c instead (mk/unit.mk): the
# corpus replayed and a short mutation run, with gcc, no clang needed.

.PHONY: fuzz fuzz-build fuzz-merge fuzz-replay fuzz-clean

FUZZ_CC ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null) clang)
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= algo proc plugin
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_WORK := $(FUZZ_DIR)/work
FUZZ_NICE ?= nice -n 10
FUZZ_CFLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -I$(SRC)/include/uapi -I$(SRC)/kernel
FUZZ_HDRS := $(wildcard $(SRC)/tests/fuzz/*.h) $(wildcard $(SRC)/kernel/*.h) \
	$(SRC)/include/uapi/linux/netfilter/xt_ratewin.h

FUZZ_SOURCES_plugin := $(SRC)/userspace/ratewin_parse.c
FUZZ_DEPS_plugin := $(SRC)/userspace/libxt_ratewin.c $(SRC)/userspace/ratewin_parse.h
FUZZ_LDLIBS_plugin := $(shell pkg-config --libs xtables 2>/dev/null || echo -lxtables)

.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: $(SRC)/tests/fuzz/fuzz_%.c $(FUZZ_HDRS) \
		$$(FUZZ_SOURCES_$$*) $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) > /dev/null || { echo "fuzz: no clang" \
		"(apt-get install clang-14 libclang-rt-14-dev, or make deps)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SOURCES_$*) $(FUZZ_LDLIBS_$*)

fuzz-build: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

# Each target in turn (the machine's cores are shared with the VM tests).
# The working corpus starts as a copy of the committed one and keeps what
# earlier runs found.
fuzz: fuzz-build
	@set -u; rc=0; summary=""; mkdir -p $(FUZZ_DIR)/crashes; \
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_WORK)/$$t; \
		cp -n $(SRC)/tests/fuzz/corpus/$$t/* $(FUZZ_WORK)/$$t/ 2>/dev/null; \
		dict=; [ -f $(SRC)/tests/fuzz/$$t.dict ] && dict=-dict=$(SRC)/tests/fuzz/$$t.dict; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/$$t.log)"; \
		$(FUZZ_NICE) $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
			$$dict $(FUZZ_WORK)/$$t > $(FUZZ_DIR)/$$t.log 2>&1; \
		r=$$?; \
		n=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$t.log); \
		c=$$(ls $(FUZZ_WORK)/$$t | wc -l); \
		if [ $$r = 0 ]; then s="ok"; else s="FAILED (exit $$r)"; rc=1; \
			grep -m1 -E 'INVARIANT BROKEN|ERROR: (AddressSanitizer|libFuzzer)|runtime error' \
				$(FUZZ_DIR)/$$t.log; \
			grep -m1 'Test unit written' $(FUZZ_DIR)/$$t.log; fi; \
		summary="$$summary$$(printf '\n  %-7s %s: %s cases in %s s, corpus %s' \
			$$t "$$s" "$${n:-?}" $(FUZZ_SECONDS) $$c)"; \
	done; \
	echo "fuzz: results$$summary"; exit $$rc

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		[ -d $(FUZZ_WORK)/$$t ] || continue; \
		before=$$(ls $(SRC)/tests/fuzz/corpus/$$t | wc -l); \
		$(FUZZ_DIR)/fuzz_$$t -merge=1 $(SRC)/tests/fuzz/corpus/$$t \
			$(FUZZ_WORK)/$$t > $(FUZZ_DIR)/$$t-merge.log 2>&1 || \
			{ echo "fuzz-merge: $$t failed (see $(FUZZ_DIR)/$$t-merge.log)"; exit 1; }; \
		echo "fuzz-merge: $$t: $$before -> $$(ls $(SRC)/tests/fuzz/corpus/$$t | wc -l) inputs"; \
	done

fuzz-replay: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		$(FUZZ_DIR)/fuzz_$$t -runs=0 $(SRC)/tests/fuzz/corpus/$$t 2>&1 | tail -n 1 | \
			sed "s/^/fuzz-replay: $$t: /" || exit 1; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)

# make check's short runs: tests/unit/fuzz_<target>_test.c, run by
# mk/unit.mk. They #include their target and tests/fuzz/standalone.c, so
# they are built here (unit.mk's rule would compile every .c its -MMD
# dependencies name as a source of its own): same flags, one source.
$(BUILD)/unit/fuzz_%_test: $(SRC)/tests/unit/fuzz_%_test.c \
		$(SRC)/tests/fuzz/fuzz_%.c $(SRC)/tests/fuzz/standalone.c \
		$(FUZZ_HDRS) $$(FUZZ_SOURCES_$$*) $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS_fuzz_$*_test) $(UNIT_CFLAGS) -MMD -MP -o $@ $< \
		$(FUZZ_SOURCES_$*) $(UNIT_LDLIBS) $(UNIT_LDLIBS_fuzz_$*_test)

UNIT_CPPFLAGS_fuzz_algo_test += -DFUZZ_SRC='"$(SRC)"'
UNIT_CPPFLAGS_fuzz_proc_test += -DFUZZ_SRC='"$(SRC)"'
UNIT_CPPFLAGS_fuzz_plugin_test += -DFUZZ_SRC='"$(SRC)"'
UNIT_LDLIBS_fuzz_plugin_test += $(FUZZ_LDLIBS_plugin)

HELP += "fuzz|libFuzzer runs of tests/fuzz/ targets, FUZZ_SECONDS each (default 300)"
HELP += "fuzz-merge|add the new coverage of the last make fuzz to tests/fuzz/corpus/"
HELP += "fuzz-replay|run the libFuzzer targets once over the committed corpus"
DEPS_PACKAGES += clang-14 libclang-rt-14-dev

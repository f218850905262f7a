// SPDX-License-Identifier: GPL-2.0
/*
 * make check's run of the fuzz target tests/fuzz/fuzz_plugin.c: its corpus
 * (tests/fuzz/corpus/plugin/) replayed, then a short mutation run
 * (FUZZ_CHECK_SECONDS, default 10), built with gcc, ASan and UBSan.
 * Target: the iptables plugin's parse, print and save (userspace/libxt_ratewin.c).
 * Long coverage-guided runs: make fuzz (libFuzzer, mk/fuzz.mk).
 */
#define FUZZ_TARGET	"plugin"
#define FUZZ_CORPUS_DIR	FUZZ_SRC "/tests/fuzz/corpus/plugin"
#define FUZZ_DICT_FILE	FUZZ_SRC "/tests/fuzz/plugin.dict"
#include "../fuzz/fuzz_plugin.c"
#include "../fuzz/standalone.c"

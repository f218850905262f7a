// SPDX-License-Identifier: GPL-2.0
/*
 * make check's run of the fuzz target tests/fuzz/fuzz_algo.c: its corpus
 * (tests/fuzz/corpus/algo/) replayed, then a short mutation run
 * (FUZZ_CHECK_SECONDS, default 10), built with gcc, ASan and UBSan.
 * Target: the decision logic (kernel/ratewin_algo.h) against an exact model.
 * Long coverage-guided runs: make fuzz (libFuzzer, mk/fuzz.mk).
 */
#define FUZZ_TARGET	"algo"
#define FUZZ_CORPUS_DIR	FUZZ_SRC "/tests/fuzz/corpus/algo"
#define FUZZ_DICT_FILE	FUZZ_SRC "/tests/fuzz/algo.dict"
#include "../fuzz/fuzz_algo.c"
#include "../fuzz/standalone.c"

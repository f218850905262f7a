// SPDX-License-Identifier: GPL-2.0
/*
 * make check's run of the fuzz target tests/fuzz/fuzz_proc.c: its corpus
 * (tests/fuzz/corpus/proc/) replayed, then a short mutation run
 * (FUZZ_CHECK_SECONDS, default 10), built with gcc, ASan and UBSan.
 * Target: the /proc write parser (kernel/ratewin_parse.h).
 * Long coverage-guided runs: make fuzz (libFuzzer, mk/fuzz.mk).
 */
#define FUZZ_TARGET	"proc"
#define FUZZ_CORPUS_DIR	FUZZ_SRC "/tests/fuzz/corpus/proc"
#define FUZZ_DICT_FILE	FUZZ_SRC "/tests/fuzz/proc.dict"
#include "../fuzz/fuzz_proc.c"
#include "../fuzz/standalone.c"

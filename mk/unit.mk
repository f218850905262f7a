# SPDX-License-Identifier: GPL-2.0
#
# make unit: every tests/unit/<name>_test.c is a host program, built into
# build/unit/<name>_test with
#   -Wall -Wextra -Werror -I include/uapi -I kernel (+ ASan and UBSan)
# and run; its output is TAP ("ok N - ...", "not ok N - ...") or plain, in
# which case the exit status is the result (0 pass, 4 or 77 skip).
# A test that needs more, says so from any mk/*.mk (order does not matter):
#   UNIT_SOURCES_<name>_test  += userspace/foo.c   more sources to compile in
#   UNIT_CPPFLAGS_<name>_test += -I$(SRC)/userspace  flags put first
#   UNIT_LDLIBS_<name>_test   += -lm                 libraries

.PHONY: unit

UNIT_SRCS := $(sort $(wildcard $(SRC)/tests/unit/*_test.c))
UNIT_BIN := $(BUILD)/unit
UNIT_TESTS := $(patsubst $(SRC)/tests/unit/%.c,$(UNIT_BIN)/%,$(UNIT_SRCS))
UNIT_SANITIZE ?= -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UNIT_CFLAGS ?= -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-I$(SRC)/include/uapi -I$(SRC)/kernel -I$(SRC)/tests/unit $(UNIT_SANITIZE)
UNIT_LDLIBS ?=

.SECONDEXPANSION:
$(UNIT_BIN)/%_test: $(SRC)/tests/unit/%_test.c \
		$$(addprefix $(SRC)/,$$(UNIT_SOURCES_$$*_test))
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS_$*_test) $(UNIT_CFLAGS) -MMD -MP -o $@ \
		$(filter %.c,$^) $(UNIT_LDLIBS) $(UNIT_LDLIBS_$*_test)

# The plugin's parser test (its sources live in userspace/, whose
# ratewin_parse.h must win over kernel/'s).
UNIT_SOURCES_plugin_parse_test += userspace/ratewin_parse.c
UNIT_CPPFLAGS_plugin_parse_test += -I$(SRC)/userspace

-include $(UNIT_TESTS:=.d)

unit: $(UNIT_TESTS)
	@if [ -z "$(UNIT_TESTS)" ]; then echo "unit: no tests/unit/*_test.c"; \
		[ -z "$$TAP_COUNTS" ] || echo "0 0 0" > "$$TAP_COUNTS"; exit 0; fi
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/vm/tap.sh unit $(UNIT_TESTS)

HELP += "unit|build and run tests/unit/*_test.c on the host"

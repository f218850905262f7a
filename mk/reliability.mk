# SPDX-License-Identifier: GPL-2.0
#
# Reliability: stress, the matchinfo fuzzer, the jiffies wrap, the debug
# and PREEMPT_RT kernels (the suites are tests/selftests/40_*, 50_*, 60_*;
# make check runs them with the others).
#
#   make stress [STRESS_SECONDS=600]    tests/selftests/50_stress.sh alone in
#                                       a boot, for longer (default 600 s)
#   make matchinfo-fuzz [MTFUZZ_CASES=N] [MTFUZZ_SEED=S]
#                                       40_matchinfo_fuzz alone, N cases per
#                                       path (default 10000)
#   make jiffies-wrap                   60_jiffies_wrap in a boot of its own:
#                                       it has to start before the wrap at
#                                       300 s of uptime (about 6 minutes)
#   make check-leak-selftest [LEAK_EVERY=N]
#                                       proves the stress suite's leak check
#                                       fails on a leak: a module build that
#                                       leaks one table array in N (default 3)
#                                       must fail it (one boot, ~5 minutes)
#   make debug-kernel                   build the debug kernel into the cache
#                                       (about 50 minutes; never in CI)
#   make check KERNEL=debug             the debug kernel (built first when
#                                       missing), module built against it,
#                                       every suite, kmemleak scan at the end
#   make check KERNEL=rt                Debian's PREEMPT_RT kernel (install
#                                       linux-image-rt-amd64 and
#                                       linux-headers-rt-amd64 first)
# Each of stress, matchinfo-fuzz and jiffies-wrap takes KERNEL= too.

.PHONY: stress matchinfo-fuzz jiffies-wrap debug-kernel reliability-tools
.PHONY: leak-build check-leak-selftest

STRESS_SECONDS ?= 600
MTFUZZ_CASES ?= 10000

debug-kernel:
	@$(SRC)/tests/vm/debug-kernel.sh build

# KERNEL=debug: the kernel is built before anything needs it (once; the
# sub-makes of check and vm then find it).
ifeq ($(KERNEL),debug)
check vm stress matchinfo-fuzz jiffies-wrap: debug-kernel
endif

# The stress suite's timeout (its vm-timeout: 360 s for 60 s of stress)
# scaled for STRESS_SECONDS, times 4 on the debug kernel.
stress_scale = $(shell echo $$(( ($(STRESS_SECONDS) + 300) / 360 + 1 \
	)) $(if $(filter debug,$(KERNEL)),4,1) | awk '{ print $$1 * $$2 }')

stress:
	VM_TIMEOUT_SCALE=$(stress_scale) \
		VM_APPEND="$(VM_APPEND) xtrw_stress_seconds=$(STRESS_SECONDS)" \
		tests/vm/run.sh 50_stress

matchinfo-fuzz:
	VM_TIMEOUT_SCALE=$$(( ($(MTFUZZ_CASES) + 9999) / 10000 * \
		$(if $(filter debug,$(KERNEL)),4,1) )) \
		VM_APPEND="$(VM_APPEND) xtrw_mtfuzz_cases=$(MTFUZZ_CASES)$(if $(MTFUZZ_SEED), xtrw_mtfuzz_seed=$(MTFUZZ_SEED))" \
		tests/vm/run.sh 40_matchinfo_fuzz

jiffies-wrap:
	tests/vm/run.sh 60_jiffies_wrap

# The module built to leak one table array in LEAK_EVERY (kernel/Kbuild:
# RW_LEAK_EVERY), into build/<ver>/ratewin-leak/, never installed; the
# leak check of 50_stress has to fail with it (tests/vm/leak-selftest.sh).
LEAK_EVERY ?= 3
LEAK_BUILD = $(VM_BUILD)/ratewin-leak
leak-build: vm-build
	@set -e; exec 9> $(VM_BUILD)/.lock-leak; flock 9; \
	tests/vm/kbuild-mirror.sh $(LEAK_BUILD) $(SRC) Kbuild kernel include; \
	$(MAKE) --no-print-directory -C $(VM_KDIR) M=$(LEAK_BUILD) \
		RW_LEAK_EVERY=$(LEAK_EVERY) W=1 KCFLAGS=-Werror modules

check-leak-selftest: leak-build
	tests/vm/leak-selftest.sh $(LEAK_BUILD)/kernel/xt_ratewin.ko

# The matchinfo fuzzer prebuilt (the suite builds it in the guest when this
# is missing or older than its source).
$(BUILD)/tools/ratewin_mtfuzz: $(SRC)/tests/fuzz/mtinfo_kernel.c \
		$(SRC)/tests/fuzz/mtinfo_oracle.h \
		$(SRC)/include/uapi/linux/netfilter/xt_ratewin.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -I$(SRC)/include/uapi -o $@ $< \
		-lnftnl -lmnl

reliability-tools: $(BUILD)/tools/ratewin_mtfuzz

# make check builds it with the rest (vm-build), so that the guest does not
# have to; a failure here only means the guest builds it.
.PHONY: reliability-tools-soft
reliability-tools-soft:
	-@$(MAKE) --no-print-directory reliability-tools
vm-build: reliability-tools-soft

HELP += "stress|the stress suite alone, STRESS_SECONDS long (default 600)"
HELP += "matchinfo-fuzz|the kernel matchinfo fuzzer alone (MTFUZZ_CASES, MTFUZZ_SEED)"
HELP += "jiffies-wrap|the 32-bit jiffies wrap suite in its own boot (~6 min)"
HELP += "check-leak-selftest|a module build that leaks on purpose must fail the stress suite's leak check"
HELP += "debug-kernel|build the debug kernel (KASAN, lockdep, kmemleak) once, ~50 min"
HELP += "reliability-tools|prebuild the matchinfo fuzzer (build/tools/)"
DEPS_PACKAGES += libnftnl-dev libmnl-dev
# building the debug kernel (make debug-kernel, make check KERNEL=debug)
DEPS_PACKAGES += flex bison bc libelf-dev libssl-dev

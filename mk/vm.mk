# SPDX-License-Identifier: GPL-2.0
#
# VM tests: build for the VM kernel, boot it, run suites; and `make check`.

.PHONY: vm-build vm check

# The module and tests/warnmod built for the VM kernel into build/<ver>/
# (symlink mirrors, so the checkout's kernel/ stays untouched), with W=1 and
# warnings as errors; plus the plugin. A lock keeps two builds for the same
# kernel from running into each other.
vm-build:
	@[ -n "$(VM_KVER)" ] || { echo "error: no /boot/vmlinuz-<ver> with" \
		"/lib/modules/<ver>/build (run: make deps)" >&2; exit 1; }
	@[ -f "$(VM_KDIR)/Makefile" ] || { echo "error: no kernel build tree" \
		"at $(VM_KDIR) (run: make deps)" >&2; exit 1; }
	@mkdir -p $(VM_BUILD)
	@set -e; exec 9> $(VM_BUILD)/.lock; flock 9; \
	tests/vm/kbuild-mirror.sh $(VM_BUILD)/ratewin $(SRC) Kbuild kernel include; \
	tests/vm/kbuild-mirror.sh $(VM_BUILD)/warnmod $(SRC)/tests/warnmod .; \
	$(MAKE) --no-print-directory -C $(VM_KDIR) M=$(VM_BUILD)/ratewin \
		W=1 KCFLAGS=-Werror modules; \
	$(MAKE) --no-print-directory -C $(VM_KDIR) M=$(VM_BUILD)/warnmod \
		W=1 KCFLAGS=-Werror modules
	@$(MAKE) --no-print-directory userspace

# Boot the VM and run suites: make vm T=01_load (no T: all regular suites).
vm:
	tests/vm/run.sh $(T)

# Everything: deps present, build, style, unit tests, the harness
# self-check boot and one boot for the suites. T=<suite> runs just that.
check:
	@tests/vm/check.sh $(T)

HELP += "check|deps present, build, style, unit tests, VM suites (T=<suite> for one)"
HELP += "vm|boot the VM kernel and run suites (T=<suite>), no other checks"
HELP += "vm-build|build module, tests/warnmod and plugin for the VM kernel $(VM_KVER)"

# SPDX-License-Identifier: GPL-2.0
#
# Installing xt_ratewin (README.md, "Install"):
#
#   make install        module -> /lib/modules/$(KVER)/updates (+ depmod),
#                       plugin -> `pkg-config --variable=xtlibdir xtables`,
#                       man page -> $(MANDIR)/man8. DESTDIR and KVER honoured
#                       (with DESTDIR, depmod is left to the target).
#   make uninstall      the reverse.
#   make dkms-install   sources -> /usr/src/xt_ratewin-<ver>, dkms add, build
#                       and install for $(KVER) (then for every new kernel),
#                       plus the plugin and the man page, which DKMS does not
#                       install.
#   make dkms-uninstall the reverse (dkms remove xt_ratewin/<ver> --all).
#   make demo           boot the test kernel and show the SSH case: recent,
#                       hashlimit and ratewin side by side.
#   make check-install  host-side proof of all this: the docs match the
#                       plugin, `make install DESTDIR=`, and DKMS for the VM
#                       kernel with a boot that autoloads it (tests/install/).
#
# The version lives in VERSION, read here, by dkms.conf and by kernel/Kbuild.

.PHONY: install uninstall install-module uninstall-module install-plugin \
	uninstall-plugin install-man uninstall-man dkms-install dkms-uninstall \
	demo check-install

RW_VERSION := $(shell cat $(SRC)/VERSION 2>/dev/null)
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
XTLIBDIR ?= $(shell pkg-config --variable=xtlibdir xtables 2>/dev/null)
RW_MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates
RW_DKMS_SRC = /usr/src/xt_ratewin-$(RW_VERSION)
RW_MAN = userspace/xt_ratewin.8

# What DKMS needs to build the module, and only that (no top-level Makefile:
# dkms.conf calls Kbuild directly).
RW_DKMS_FILES = VERSION dkms.conf Kbuild $(wildcard LICENSE) \
	$(filter-out %.mod.c,$(wildcard kernel/*.c)) $(wildcard kernel/*.h) \
	kernel/Kbuild $(shell find include -name '*.h' 2>/dev/null)

DEPS_PACKAGES += dkms socat man-db groff-base bsdextrautils

HELP += "install|module, plugin and man page into the system (KVER=, DESTDIR=, PREFIX=)"
HELP += "uninstall|remove what make install installed"
HELP += "dkms-install|register with DKMS, build and install for KVER, plus plugin and man page"
HELP += "dkms-uninstall|dkms remove xt_ratewin/$(RW_VERSION) --all, plugin and man page"
HELP += "demo|boot the VM: the SSH case against recent, hashlimit and ratewin"
HELP += "check-install|docs vs plugin, make install DESTDIR=, DKMS with an autoload boot"

# The module must be the one built for $(KVER): a module built for another
# kernel is the classic "Invalid module format" after a reboot.
define rw_check_vermagic
	@kv=$$(modinfo -F vermagic kernel/xt_ratewin.ko 2>/dev/null | cut -d' ' -f1); \
	if [ "$$kv" != "$(KVER)" ]; then \
		echo "error: kernel/xt_ratewin.ko is built for '$$kv', not for $(KVER);" \
			"pass the same KVER= to make and make install" >&2; \
		exit 1; \
	fi
endef

define rw_need_xtlibdir
	@[ -n "$(XTLIBDIR)" ] || { echo "error: pkg-config --variable=xtlibdir" \
		"xtables gave nothing (install libxtables-dev, or pass XTLIBDIR=)" >&2; \
		exit 1; }
endef

define rw_need_root
	@[ "$$(id -u)" = 0 ] || { echo "error: $@ needs root" >&2; exit 1; }
endef

# ---- make install / uninstall ----

install: modules userspace
	$(rw_check_vermagic)
	@$(MAKE) --no-print-directory install-module install-plugin install-man
	@echo "installed xt_ratewin $(RW_VERSION) for $(KVER)" \
		"(module, plugin in $(XTLIBDIR), man page xt_ratewin(8))"

uninstall: uninstall-module uninstall-plugin uninstall-man

install-module:
	install -D -m 0644 kernel/xt_ratewin.ko $(RW_MODDIR)/xt_ratewin.ko
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
	@if [ -e /lib/modules/$(KVER)/updates/dkms/xt_ratewin.ko ]; then \
		echo "warning: a DKMS copy is installed too" \
			"(/lib/modules/$(KVER)/updates/dkms); remove one of them" \
			"(make dkms-uninstall or make uninstall)" >&2; \
	fi
else
	@echo "NOTE: DESTDIR set: run 'depmod -a $(KVER)' on the target system"
endif

uninstall-module:
	rm -f $(RW_MODDIR)/xt_ratewin.ko
ifeq ($(DESTDIR),)
	@if [ -d /lib/modules/$(KVER)/kernel ]; then \
		echo "depmod -a $(KVER)"; depmod -a $(KVER); fi
endif

install-plugin:
	$(rw_need_xtlibdir)
	@[ -f userspace/libxt_ratewin.so ] || { echo "error: no" \
		"userspace/libxt_ratewin.so (run make first)" >&2; exit 1; }
	install -D -m 0644 userspace/libxt_ratewin.so $(DESTDIR)$(XTLIBDIR)/libxt_ratewin.so

uninstall-plugin:
	$(rw_need_xtlibdir)
	rm -f $(DESTDIR)$(XTLIBDIR)/libxt_ratewin.so

install-man:
	install -D -m 0644 $(RW_MAN) $(DESTDIR)$(MANDIR)/man8/xt_ratewin.8

uninstall-man:
	rm -f $(DESTDIR)$(MANDIR)/man8/xt_ratewin.8
	@rmdir --ignore-fail-on-non-empty $(DESTDIR)$(MANDIR)/man8 2>/dev/null || true

# ---- DKMS ----

dkms-install: userspace
	$(rw_need_root)
	@command -v dkms > /dev/null || { echo "error: dkms is not installed" \
		"(apt-get install dkms, or: make deps)" >&2; exit 1; }
	@[ -n "$(RW_VERSION)" ] || { echo "error: no VERSION file" >&2; exit 1; }
	@set -e; \
	if [ -n "$$(dkms status xt_ratewin/$(RW_VERSION) 2>/dev/null)" ]; then \
		echo "dkms remove xt_ratewin/$(RW_VERSION) --all (reinstalling)"; \
		dkms remove xt_ratewin/$(RW_VERSION) --all; \
	fi; \
	rm -rf $(RW_DKMS_SRC); \
	for f in $(RW_DKMS_FILES); do \
		install -D -m 0644 "$$f" "$(RW_DKMS_SRC)/$$f"; \
	done; \
	echo "sources copied to $(RW_DKMS_SRC)"; \
	dkms add xt_ratewin/$(RW_VERSION); \
	dkms build xt_ratewin/$(RW_VERSION) -k $(KVER) || { \
		echo "error: dkms build failed; its log:" \
			"/var/lib/dkms/xt_ratewin/$(RW_VERSION)/build/make.log" >&2; \
		exit 1; }; \
	dkms install xt_ratewin/$(RW_VERSION) -k $(KVER)
	@$(MAKE) --no-print-directory install-plugin install-man DESTDIR=
	@if [ -e /lib/modules/$(KVER)/updates/xt_ratewin.ko ]; then \
		echo "warning: /lib/modules/$(KVER)/updates/xt_ratewin.ko from" \
			"make install is there too; run make uninstall KVER=$(KVER)" >&2; \
	fi
	@echo "xt_ratewin $(RW_VERSION): DKMS module for $(KVER)" \
		"(rebuilt for new kernels), plugin in $(XTLIBDIR), man page xt_ratewin(8)"

dkms-uninstall:
	$(rw_need_root)
	@set -e; \
	if command -v dkms > /dev/null && \
	   [ -n "$$(dkms status xt_ratewin/$(RW_VERSION) 2>/dev/null)" ]; then \
		echo "dkms remove xt_ratewin/$(RW_VERSION) --all"; \
		dkms remove xt_ratewin/$(RW_VERSION) --all; \
	fi; \
	rm -rf $(RW_DKMS_SRC); \
	other=$$(command -v dkms > /dev/null && dkms status xt_ratewin 2>/dev/null || true); \
	if [ -n "$$other" ]; then \
		echo "NOTE: other versions are still registered with DKMS:" \
			"$$other (dkms remove xt_ratewin/<version> --all)"; \
	fi
	@$(MAKE) --no-print-directory uninstall-plugin uninstall-man DESTDIR=

# ---- demo and checks ----

# make deps first (a fresh machine), then the VM build quietly, then the demo.
demo:
	@$(MAKE) --no-print-directory deps
	@tests/demo/demo.sh

# COUNTS=<file>: also write "passed failed skipped" there (for make check).
check-install:
	@tests/install/check.sh $(if $(COUNTS),--counts $(COUNTS))

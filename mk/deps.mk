# SPDX-License-Identifier: GPL-2.0
#
# make deps: install what building and testing need from Debian's archive.
# A no-op when everything is there (`apt-get update` only runs when a
# package is missing). make deps-check: fail, naming what is missing.
# Other topics add packages with DEPS_PACKAGES += <pkg> in their mk/*.mk.

.PHONY: deps deps-check

DEPS_PACKAGES += build-essential make perl xz-utils gzip cpio kmod procps \
	pkg-config libxtables-dev iptables nftables iproute2 conntrack \
	socat ncat tcpdump iputils-ping python3 busybox-static qemu-system-x86 \
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 dkms gnuplot-nox

# checkpatch.pl: from an unpacked linux-source if there is one, else the
# three files it needs, extracted once from Debian's linux-source tarball
# into $(CACHE_DIR)/checkpatch.
CHECKPATCH ?= $(firstword $(wildcard /usr/src/linux-source-*/scripts/checkpatch.pl) \
	$(CACHE_DIR)/checkpatch/scripts/checkpatch.pl)
LINUX_SOURCE_TAR ?= $(lastword $(sort $(wildcard /usr/src/linux-source-*.tar.xz)))

# Prints the packages of DEPS_PACKAGES that are not installed.
define deps_missing
dpkg-query -W -f='$${Package} $${db:Status-Abbrev}\n' $(sort $(DEPS_PACKAGES)) 2>/dev/null | \
	awk '$$2 == "ii" { ok[$$1] = 1 } END { n = split("$(sort $(DEPS_PACKAGES))", p, " "); \
		for (i = 1; i <= n; i++) if (!(p[i] in ok)) print p[i] }'
endef

deps:
	@set -e; missing=$$($(deps_missing)); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing:" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q -o DPkg::Lock::Timeout=900; \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q \
			-o DPkg::Lock::Timeout=900 \
			--no-install-recommends $$missing; \
	else \
		echo "deps: all $(words $(sort $(DEPS_PACKAGES))) packages present"; \
	fi
	@$(MAKE) --no-print-directory checkpatch-extract
	@k=$$(tests/vm/run.sh --print-kver) || { echo "deps: error: no kernel" \
		"image with headers in /boot and /lib/modules" >&2; exit 1; }; \
	echo "deps: VM kernel $$k"

.PHONY: checkpatch-extract
checkpatch-extract:
	@set -e; cp=$$(ls /usr/src/linux-source-*/scripts/checkpatch.pl \
		$(CACHE_DIR)/checkpatch/scripts/checkpatch.pl 2>/dev/null | head -n1); \
	if [ -n "$$cp" ]; then exit 0; fi; \
	[ -f "$(LINUX_SOURCE_TAR)" ] || { echo "deps: error: no linux-source" \
		"tarball in /usr/src" >&2; exit 1; }; \
	top=$$(basename $(LINUX_SOURCE_TAR) .tar.xz); \
	echo "deps: extracting checkpatch.pl from $(LINUX_SOURCE_TAR)"; \
	rm -rf $(CACHE_DIR)/checkpatch.tmp; mkdir -p $(CACHE_DIR)/checkpatch.tmp; \
	tar -xJf $(LINUX_SOURCE_TAR) -C $(CACHE_DIR)/checkpatch.tmp \
		--strip-components=1 $$top/scripts/checkpatch.pl \
		$$top/scripts/spelling.txt $$top/scripts/const_structs.checkpatch; \
	rm -rf $(CACHE_DIR)/checkpatch; \
	mv $(CACHE_DIR)/checkpatch.tmp $(CACHE_DIR)/checkpatch

deps-check:
	@missing=$$($(deps_missing)); \
	if [ -n "$$missing" ]; then \
		echo "error: missing packages:" $$missing >&2; \
		echo "error: run 'make deps' (as root) first" >&2; exit 1; \
	fi; \
	if [ ! -f "$(CHECKPATCH)" ]; then \
		echo "error: no checkpatch.pl; run 'make deps' first" >&2; exit 1; \
	fi; \
	if ! k=$$(tests/vm/run.sh --print-kver); then \
		echo "error: no /boot/vmlinuz-<ver> with /lib/modules/<ver>/build;" \
			"run 'make deps' first" >&2; exit 1; \
	fi; \
	echo "deps: all present; VM kernel $$k"

HELP += "deps|install the build and test dependencies (apt-get; no-op when present)"
HELP += "deps-check|fail when a dependency is missing"

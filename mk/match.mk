# SPDX-License-Identifier: GPL-2.0
# What the match suites (tests/selftests/1x_*.sh) need in the guest, which
# runs the host's programs over the shared root.
DEPS_PACKAGES += iputils-ping python3

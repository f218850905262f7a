#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 in the test guest, started by tests/vm/initramfs-init after it has
# switched into the host root (read-only 9p). /run/xtrw is the writable
# results share; tests/vm/run.sh wrote config.sh there before the boot.
# For each suite it records stdout, stderr, the exit code and the taint
# flags before and after, then saves the kernel log and powers off.
# Nothing here decides pass or fail: the host reads the results.

R=/run/xtrw
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8 TERM=dumb

kmsg() { echo "xt_ratewin-vm: $*" > /dev/kmsg; }

poweroff_now() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 60
	# sleep can fail to start once the power-off has shut the 9p root
	# down; returning now would end PID 1 and panic the guest
	while :; do :; done
}
# PID 1 must never exit: that panics the guest.
trap poweroff_now EXIT

main() {
	local kver name d t rc
	echo "$(cut -d' ' -f1 /proc/uptime)" > "$R/booted"
	kmsg "guest init started"

	# shellcheck source=/dev/null
	. "$R/config.sh"

	[ -n "${XTRW_TRACE:-}" ] && { PS4='+ $(cut -d" " -f1 /proc/uptime) '; set -x; exec 2>/dev/console; }
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620 devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	ln -sf /proc/self/fd /dev/fd 2>/dev/null
	ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null
	ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null
	ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null
	hostname xtrw-vm
	ip link set lo up
	# The random pool: virtio-rng feeds it once the driver is bound.
	modprobe -q virtio_rng 2>/dev/null

	# The guest view of /lib/modules is the host's, read-only; an overlay with a
	# tmpfs upper lets suites install the module and run depmod (autoload tests).
	kver=$(uname -r)
	if [ -d "/lib/modules/$kver" ] && modprobe -q overlay 2>/dev/null; then
		mkdir -p /run/modoverlay/upper /run/modoverlay/work
		mount -t overlay overlay \
			-o "lowerdir=/lib/modules/$kver,upperdir=/run/modoverlay/upper,workdir=/run/modoverlay/work" \
			"/lib/modules/$kver" 2>/dev/null ||
			kmsg "no writable overlay on /lib/modules/$kver"
	fi

	# Leak reports count from here on: forget what boot left behind.
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo clear > /sys/kernel/debug/kmemleak
	fi

	kmsg "guest setup done"
	export XTRW_SRC XTRW_ARTIFACTS XTRW_KO XTRW_WARNMOD_KO XTABLES_LIBDIR XTRW_KVER
	cat /proc/sys/kernel/tainted > "$R/tainted.boot"

	for name in $XTRW_SUITES; do
		d=$R/suites/$name
		mkdir -p "$d"
		t=$(eval echo "\${XTRW_TIMEOUT_${name//[^A-Za-z0-9_]/_}:-$XTRW_SUITE_TIMEOUT}")
		cat /proc/sys/kernel/tainted > "$d/tainted.before"
		kmsg "suite $name start (timeout ${t}s)"
		cut -d' ' -f1 /proc/uptime > "$d/start"
		p=$(eval echo "\${XTRW_PATH_${name//[^A-Za-z0-9_]/_}:-}")
		(
			[ -n "$p" ] && cd "${p%/*}" && exec timeout -k 10 "$t" bash "$p"
			cd "$XTRW_SRC/tests/selftests" &&
			exec timeout -k 10 "$t" bash "./$name.sh"
		) > "$d/stdout" 2> "$d/stderr" < /dev/null
		rc=$?
		cut -d' ' -f1 /proc/uptime > "$d/end"
		echo "$rc" > "$d/rc"
		kmsg "suite $name end rc=$rc"
		cat /proc/sys/kernel/tainted > "$d/tainted.after"
		# A clean slate for the next suite: no stray processes or namespaces.
		kill -KILL -1 2>/dev/null
		ip -all netns delete 2>/dev/null
		sync
	done

	kmsg "suites done"
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		sleep 6
		echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak > "$R/kmemleak"
	fi
	[ -r /proc/lockdep_stats ] && cp /proc/lockdep_stats "$R/lockdep_stats"
	cat /proc/sys/kernel/tainted > "$R/tainted"
	dmesg > "$R/dmesg"
	echo "$(cut -d' ' -f1 /proc/uptime)" > "$R/done"
}

# Read in full before it runs, so an edit of this file on the host cannot
# change a running guest.
main

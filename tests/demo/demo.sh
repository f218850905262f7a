#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build the module and the plugin for the test kernel, boot it
# under qemu (tests/vm/run.sh --script) running tests/demo/ssh-demo.sh in
# the guest, and show what that prints as it prints it. `make demo` runs
# `make deps` first.

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
SUITE=script_ssh-demo

TMP=$(mktemp -d)
runpid=""
cleanup() {
	[ -n "$runpid" ] && kill "$runpid" 2> /dev/null && wait "$runpid" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat <<EOF
xt_ratewin demo
---------------
xt_ratewin is an iptables match that limits, per source address, with a
token bucket, a true sliding window and a connection count in one rule. This
demo boots a test kernel under qemu (nothing is loaded into this machine's
kernel) and compares it with the matches the kernel already has, on the
classic case of limiting new SSH connections.

Building the module and the plugin for the test kernel...
EOF
if ! make --no-print-directory vm-build > "$TMP/build.log" 2>&1; then
	tail -n 40 "$TMP/build.log"
	echo "demo: the build failed (above); run 'make vm-build' to see all of it" >&2
	exit 1
fi

echo "Booting the test kernel (about 10-30 s under emulation)..."
tests/vm/run.sh --no-build --no-last-failure --quiet --script tests/demo/ssh-demo.sh > "$TMP/run.log" 2>&1 &
runpid=$!

# The run directory, from the harness' "run dir tests/vm/out/<run>;" line.
rundir=""
for _ in $(seq 1 600); do
	rundir=$(sed -n 's/^vm: run dir \([^;]*\);.*/\1/p' "$TMP/run.log" | head -n1)
	[ -n "$rundir" ] && break
	kill -0 "$runpid" 2> /dev/null || break
	sleep 0.1
done
if [ -z "$rundir" ]; then
	wait "$runpid"
	runpid=""
	cat "$TMP/run.log"
	echo "demo: the VM harness did not start (above)" >&2
	exit 1
fi
out=$SRC/$rundir/guest/suites/$SUITE/stdout

# Other VM runs on this machine go first (the harness runs one at a time).
said=0
while [ ! -e "$out" ] && kill -0 "$runpid" 2> /dev/null; do
	if [ $said = 0 ] && grep -q '^vm: waiting for another VM run' "$TMP/run.log"; then
		echo "(another VM run is using the emulator on this machine: waiting for it to end)"
		said=1
	fi
	sleep 0.2
done

# Follow the guest's output: TAP comments are the demo's text; the test
# points are shown only when one fails.
tail -n +1 -F -s 0.2 --pid="$runpid" "$out" 2> /dev/null |
	while IFS= read -r line; do
		case $line in
		"TAP version"* | "# ssh-demo" | "1.."* | "# Totals:"* | "ok "*) ;;
		"not ok "*) echo "demo: check failed: ${line#not ok }" ;;
		"#") echo ;;
		"# "*) echo "${line#\# }" ;;
		*) echo "$line" ;;
		esac
	done
wait "$runpid"
rc=$?
runpid=""
if [ $rc -ne 0 ]; then
	echo
	grep -E '^vm: (FAIL|verdict|guest log)' "$TMP/run.log"
	echo "demo: the VM run did not pass (harness exit $rc); full log: $rundir/console.log" >&2
	exit $rc
fi
cat <<EOF

Try it on a real server: README.md ("Install" and "Recipes"), man xt_ratewin.
Run every test: make check
EOF

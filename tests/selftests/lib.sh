#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the kselftest-style suites in tests/selftests/NN_name.sh.
# A suite sources this file, reports test points with ok/fail/skip/check,
# and ends with `ksft_exit`:
#
#   #!/bin/bash
#   # SPDX-License-Identifier: GPL-2.0
#   # What the suite covers, one line.
#   # vm-timeout: 300          (optional; default 180 s)
#   . "$(dirname "$0")/lib.sh"
#   require_root
#   load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
#   check "rule adds" iptables -A INPUT -m ratewin --ratewin-name t ...
#   ksft_exit
#
# Output is TAP: "ok N - desc", "not ok N - desc", "ok N - desc # SKIP why",
# comments start with "#", and the plan "1..N" comes last. Exit status: 0
# when nothing failed, 1 when something did, 4 (ksft_skip) when every point
# skipped. The VM harness counts the points.
#
# Environment (set by tests/vm/run.sh in the guest; defaults suit a run on
# a machine that can load modules, from the checkout):
#   XTRW_SRC         the checkout (read-only in the guest)
#   XTRW_KO          the built xt_ratewin.ko
#   XTRW_WARNMOD_KO  the built tests/warnmod module
#   XTABLES_LIBDIR   plugin build dir first, then the system xtables dir

ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_xpass=3
ksft_skip=4

XTRW_SRC=${XTRW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
XTRW_KO=${XTRW_KO:-$XTRW_SRC/kernel/xt_ratewin.ko}
XTRW_WARNMOD_KO=${XTRW_WARNMOD_KO:-$XTRW_SRC/tests/warnmod/warnmod.ko}
if [ -z "${XTABLES_LIBDIR:-}" ]; then
	XTABLES_LIBDIR=$XTRW_SRC/userspace:$(pkg-config --variable=xtlibdir xtables 2>/dev/null ||
		echo /usr/lib/x86_64-linux-gnu/xtables)
fi
export XTRW_SRC XTRW_KO XTRW_WARNMOD_KO XTABLES_LIBDIR
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

XTRW_SUITE=$(basename "$0" .sh)
XTRW_N=0
XTRW_PASSED=0
XTRW_FAILED=0
XTRW_SKIPPED=0

echo "TAP version 13"
echo "# $XTRW_SUITE"

# ---- reporting ----

info() { echo "# $*"; }

ok() {
	XTRW_N=$((XTRW_N + 1))
	XTRW_PASSED=$((XTRW_PASSED + 1))
	echo "ok $XTRW_N - $*"
}

fail() {
	XTRW_N=$((XTRW_N + 1))
	XTRW_FAILED=$((XTRW_FAILED + 1))
	echo "not ok $XTRW_N - $*"
}

# skip DESC [REASON]
skip() {
	XTRW_N=$((XTRW_N + 1))
	XTRW_SKIPPED=$((XTRW_SKIPPED + 1))
	echo "ok $XTRW_N - $1 # SKIP${2:+ $2}"
}

# Print a command's output as TAP comments.
_comment_out() { sed 's/^/#   /' "$1"; }

# check DESC CMD...: a point that passes when CMD succeeds. CMD's output is
# shown (as comments) only when it fails.
check() {
	local desc=$1 out rc
	shift
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc"
		echo "#   command: $* (exit $rc)"
		_comment_out "$out"
	fi
	rm -f "$out"
	return $rc
}

# check_fail DESC CMD...: a point that passes when CMD fails.
check_fail() {
	local desc=$1 out rc
	shift
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		ok "$desc"
	else
		fail "$desc"
		echo "#   command: $* (succeeded, expected failure)"
		_comment_out "$out"
	fi
	rm -f "$out"
	[ $rc -ne 0 ]
}

# Prints the plan and the totals, runs the cleanups, exits 0, 1 or 4.
ksft_exit() {
	echo "1..$XTRW_N"
	echo "# Totals: pass:$XTRW_PASSED fail:$XTRW_FAILED skip:$XTRW_SKIPPED"
	if [ "$XTRW_FAILED" -gt 0 ]; then
		exit $ksft_fail
	elif [ "$XTRW_PASSED" -eq 0 ] && [ "$XTRW_SKIPPED" -gt 0 ]; then
		exit $ksft_skip
	fi
	exit $ksft_pass
}

# ksft_exit_skip REASON: the whole suite cannot run here.
ksft_exit_skip() {
	skip "$XTRW_SUITE" "$*"
	echo "1..$XTRW_N"
	exit $ksft_skip
}

# ksft_exit_fail REASON: give up after a failure that makes the rest moot.
ksft_exit_fail() {
	fail "$*"
	echo "1..$XTRW_N"
	exit $ksft_fail
}

# ---- preconditions ----

require_root() {
	[ "$(id -u)" -eq 0 ] || ksft_exit_skip "needs root"
}

# checktool "CMD ARGS" "WHAT": skip the suite when CMD does not run, e.g.
#   checktool "iptables --version" "run test without iptables"
checktool() {
	if ! eval "$1" > /dev/null 2>&1; then
		ksft_exit_skip "could not $2 ($1 failed)"
	fi
}

# ---- cleanup ----

XTRW_CLEANUPS=()

# cleanup_add CMD...: run CMD at exit (last added runs first).
cleanup_add() {
	local q
	printf -v q '%q ' "$@"
	XTRW_CLEANUPS+=("$q")
}

_xtrw_cleanup() {
	local rc=$? i
	trap - EXIT
	for ((i = ${#XTRW_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${XTRW_CLEANUPS[$i]}" > /dev/null 2>&1
	done
	exit $rc
}
trap _xtrw_cleanup EXIT
trap 'exit 130' INT TERM

# ---- polling ----

# wait_for TIMEOUT CMD...: run CMD every 0.1 s until it succeeds (return 0)
# or TIMEOUT seconds (may be fractional) have passed (return 1).
wait_for() {
	local end now
	end=$(awk -v t="$1" 'BEGIN { printf "%d", t * 1000 }')
	end=$(($(date +%s%N) + end * 1000000))
	shift
	while :; do
		"$@" > /dev/null 2>&1 && return 0
		now=$(date +%s%N)
		[ "$now" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# ---- the kernel's clock ----

# jiffies_now: the kernel's jiffies (64 bits), from /proc/timer_list
jiffies_now() { awk '/^jiffies: / { print $2; exit }' /proc/timer_list; }

# kernel_hz: the running kernel's HZ, from its config (/boot, or the build
# tree for a kernel built here); empty if neither has it
kernel_hz() {
	local f
	for f in "/boot/config-$(uname -r)" "/lib/modules/$(uname -r)/build/.config"; do
		[ -r "$f" ] && sed -n 's/^CONFIG_HZ=//p' "$f" && return 0
	done
	true
}

# require_hz: set HZ to the kernel's, or skip the suite
require_hz() {
	HZ=$(kernel_hz)
	[ -n "$HZ" ] || ksft_exit_skip "no CONFIG_HZ for $(uname -r) in /boot or its build tree"
}

# jiffies_ms: the kernel's jiffies in milliseconds (after require_hz)
jiffies_ms() { echo $(($(jiffies_now) * 1000 / HZ)); }

# ---- the module and the plugin ----

module_loaded() { grep -q "^$1 " /proc/modules; }

# load_ratewin: load the dependencies (from the .ko's modinfo) and insmod
# the built module. Already loaded is fine. Returns non-zero on failure.
load_ratewin() {
	local dep
	module_loaded xt_ratewin && return 0
	[ -f "$XTRW_KO" ] || { info "no module at $XTRW_KO"; return 1; }
	for dep in x_tables nf_conntrack $(modinfo -F depends "$XTRW_KO" 2>/dev/null | tr ',' ' '); do
		module_loaded "$dep" || modprobe "$dep" || { info "modprobe $dep failed"; return 1; }
	done
	insmod "$XTRW_KO" "$@" || return 1
	cleanup_add unload_ratewin_quiet
}

unload_ratewin() { rmmod xt_ratewin; }
unload_ratewin_quiet() { module_loaded xt_ratewin && rmmod xt_ratewin 2>/dev/null; true; }

# install_ratewin: put the module under /lib/modules/<ver>/updates and run
# depmod, so that modprobe and iptables' autoload find it (the guest's
# /lib/modules is a tmpfs overlay, so this never touches the host).
install_ratewin() {
	local d
	d=/lib/modules/$(uname -r)/updates
	mkdir -p "$d" && cp "$XTRW_KO" "$d/" && depmod -a || return 1
	cleanup_add rm -f "$d/xt_ratewin.ko"
}

# have_plugin: libxt_ratewin.so is in one of the XTABLES_LIBDIR dirs.
have_plugin() {
	local d
	local IFS=:
	for d in $XTABLES_LIBDIR; do
		[ -f "$d/libxt_ratewin.so" ] && return 0
	done
	return 1
}

# ipt_backends 4|6: the iptables commands to try, e.g.
#   for ipt in $(ipt_backends 4); do check "..." $ipt -A ...; done
# prints the nf_tables one (iptables) and the legacy one (iptables-legacy)
# that are installed and work here.
ipt_backends() {
	local fam=${1:-4} pre c
	[ "$fam" = 6 ] && pre=ip6tables || pre=iptables
	for c in "$pre" "$pre-legacy"; do
		command -v "$c" > /dev/null 2>&1 && "$c" -w -L -n > /dev/null 2>&1 && echo "$c"
	done
}

# ---- namespaces ----

# in_ns NS CMD...
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# setup_ns NAME...: create namespaces named NAME-<pid> with lo up and
# assign those names to the variables NAME (e.g. setup_ns NS_A NS_B).
setup_ns() {
	local v ns
	for v in "$@"; do
		ns=$(echo "$v" | tr 'A-Z_' 'a-z-')-$$
		ip netns add "$ns" || return 1
		cleanup_add ip netns del "$ns"
		ip -n "$ns" link set lo up || return 1
		printf -v "$v" '%s' "$ns"
	done
}

# setup_veth_pair: two namespaces $NS_A and $NS_B joined by a veth pair,
# both ends named veth0, with
#   NS_A: $IP4_A/24 $IP6_A/64     NS_B: $IP4_B/24 $IP6_B/64
# (IPv6 without duplicate address detection, so usable at once).
IP4_A=10.99.1.1
IP4_B=10.99.1.2
IP6_A=fd00:99:1::1
IP6_B=fd00:99:1::2
setup_veth_pair() {
	setup_ns NS_A NS_B || return 1
	ip link add xtrwa$$ netns "$NS_A" type veth peer name xtrwb$$ netns "$NS_B" || return 1
	ip -n "$NS_A" link set xtrwa$$ name veth0 &&
	ip -n "$NS_B" link set xtrwb$$ name veth0 &&
	ip -n "$NS_A" addr add "$IP4_A/24" dev veth0 &&
	ip -n "$NS_B" addr add "$IP4_B/24" dev veth0 &&
	ip -n "$NS_A" addr add "$IP6_A/64" dev veth0 nodad &&
	ip -n "$NS_B" addr add "$IP6_B/64" dev veth0 nodad &&
	ip -n "$NS_A" link set veth0 up &&
	ip -n "$NS_B" link set veth0 up || return 1
	wait_for 5 _veth_up "$NS_A" && wait_for 5 _veth_up "$NS_B"
}
_veth_up() { ip -n "$1" link show veth0 | grep -q 'state UP'; }

# kmsg TEXT: a line in the kernel log, to find a suite's place in dmesg.
kmsg() { echo "$XTRW_SUITE: $*" > /dev/kmsg 2>/dev/null; true; }

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The SSH case of SPEC section 3, time scaled down: a client opening a new
# TCP connection every 100 ms against --ratewin-window 5/3s is admitted at
# most 5 times in any 3 s span and is never locked out. IPv4 and IPv6, both
# iptables backends. An attempt's SYN meets the rule between the attempt's
# start and end; six admissions breach the window for certain only when
# the first's start and the sixth's end are less than 3 s apart.
# vm-timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
checktool "python3 --version" "run without python3"
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "namespaces"

TOOL="python3 $XTRW_SRC/tests/selftests/tcptool.py"
in_ns "$NS_B" $TOOL serve 22 > /dev/null 2>&1 &
cleanup_add kill $!
wait_for 10 listening "$NS_B" 22 || ksft_exit_fail "server listens"

run_case() {
	local ipt=$1 dst=$2 log
	log=$(mktemp)
	if ! in_ns "$NS_B" "$ipt" -A INPUT -p tcp --dport 22 --syn \
		-m ratewin --ratewin-name ssh --ratewin-window 5/3s \
		-j REJECT --reject-with tcp-reset; then
		fail "$ipt: rule added"
		return
	fi
	# resolve the neighbour first, so the first attempt is not slow
	in_ns "$NS_A" ping -q -c 1 -W 2 "$dst" > /dev/null 2>&1
	in_ns "$NS_A" $TOOL attempts "$dst" 22 0.1 9 > "$log"
	# no 6 admissions within 3 s less one jiffy (10 ms covers HZ >= 100),
	# no gap above 3.6 s, at least 12 admitted in 9 s
	if in_ns "$NS_A" $TOOL windows "$log" 5 3 3.6 12 0.01 > "$log.res"; then
		ok "$ipt: 5 per 3 s, never locked out ($(cat "$log.res"))"
	else
		fail "$ipt: 5 per 3 s, never locked out ($(cat "$log.res"))"
		_comment_out "$log"
	fi
	in_ns "$NS_B" "$ipt" -D INPUT -p tcp --dport 22 --syn \
		-m ratewin --ratewin-name ssh --ratewin-window 5/3s \
		-j REJECT --reject-with tcp-reset
	rm -f "$log" "$log.res"
}

for ipt in $(ipt_backends 4); do
	run_case "$ipt" "$IP4_B"
done
for ipt in $(ipt_backends 6); do
	run_case "$ipt" "$IP6_B"
done
ksft_exit

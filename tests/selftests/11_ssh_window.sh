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
require_hz
in_ns "$NS_B" $TOOL serve 22 > /dev/null 2>&1 &
cleanup_add kill $!
wait_for 60 listening "$NS_B" 22 || ksft_exit_fail "server listens"

# proc_after IPT DST LOG: the ssh table's file as read into LOG.proc against
# the log of tcptool attempts (lines "START END ok|refused").
proc_after() {
	local ipt=$1 src line adm over n_ok n_all
	[ "$2" = "$IP6_B" ] && src=$IP6_A || src=$IP4_A
	info "$ipt: /proc/net/xt_ratewin/ssh right after the run:"
	sed 's/^/#   /' "$3.proc"
	line=$(grep "^src=$src " "$3.proc")
	adm=$(sed -n 's/.* admitted=\([0-9]*\).*/\1/p' <<< "$line")
	over=$(sed -n 's/.* over=\([0-9]*\).*/\1/p' <<< "$line")
	n_ok=$(awk '$3 == "ok"' "$3" | wc -l)
	n_all=$(wc -l < "$3")
	if [ -n "$line" ] && [[ $line == *" window="*/5" "* ]] &&
		[ "${adm:-x}" = "$n_ok" ] && [ "$((adm + over))" = "$n_all" ]; then
		ok "$ipt: /proc shows $src: window=N/5, admitted=$adm over=$over for $n_ok of $n_all attempts admitted"
	else
		fail "$ipt: /proc shows $src with admitted=$n_ok over=$((n_all - n_ok)) (line: ${line:-none})"
	fi
}

run_case() {
	local ipt=$1 dst=$2 log
	log=$(mktemp)
	if ! in_ns "$NS_B" "$ipt" -A INPUT -p tcp --dport 22 --syn \
		-m ratewin --ratewin-name ssh --ratewin-window 5/3s \
		-j REJECT --reject-with tcp-reset; then
		fail "$ipt: rule added"
		return
	fi
	# a table left by the previous case's rule (nft may destroy it late)
	# starts empty
	in_ns "$NS_B" sh -c 'echo / > /proc/net/xt_ratewin/ssh'
	# resolve the neighbour first, so the first attempt is not slow
	in_ns "$NS_A" ping -q -c 1 -W 2 "$dst" > /dev/null 2>&1
	# (times in jiffies, the module's clock: a starved guest's jiffies can
	# lag behind the monotonic clock by seconds)
	in_ns "$NS_A" $TOOL attempts "$dst" 22 0.1 9 "$HZ" > "$log"
	# the table as the last attempts left it
	in_ns "$NS_B" cat /proc/net/xt_ratewin/ssh > "$log.proc" 2>&1
	# no 6 admissions within 3 s less one jiffy (10 ms covers HZ >= 100),
	# no gap above 3.6 s, at least 12 admitted in 9 s
	if in_ns "$NS_A" $TOOL windows "$log" 5 3 3.6 12 0.01 > "$log.res"; then
		ok "$ipt: 5 per 3 s, never locked out ($(cat "$log.res"))"
	else
		fail "$ipt: 5 per 3 s, never locked out ($(cat "$log.res"))"
		_comment_out "$log"
	fi
	# The table's file after the run, as an administrator would cat it:
	# the client's entry with the window full or filling, the admissions
	# the attempts log counted and every attempt accounted for.
	proc_after "$ipt" "$dst" "$log"
	in_ns "$NS_B" "$ipt" -D INPUT -p tcp --dport 22 --syn \
		-m ratewin --ratewin-name ssh --ratewin-window 5/3s \
		-j REJECT --reject-with tcp-reset
	rm -f "$log" "$log.res" "$log.proc"
}

for ipt in $(ipt_backends 4); do
	run_case "$ipt" "$IP4_B"
done
for ipt in $(ipt_backends 6); do
	run_case "$ipt" "$IP6_B"
done
ksft_exit

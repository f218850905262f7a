#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Rules in OUTPUT. A process's own packets reach the match in process
# context, and nf_tables (unlike x_tables) leaves softirqs on there; the
# same entries are hit from softirq too (TCP sends on ACKs and timers, the
# receive path). So:
#   - ping through an OUTPUT rule: the limit holds for locally sent
#     packets (sendmsg is refused), on both backends, IPv4 and IPv6;
#   - a TCP transfer through an OUTPUT rule keyed on the destination: one
#     entry hit from the sending process and from softirq at once; it
#     completes, and the entry counted exactly the packets the rule saw.
# An entry lock taken with softirqs on would deadlock against the softirq
# on that CPU; the debug kernel's lockdep reports it at once (make check
# KERNEL=debug T=16_output).
# vm-timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
have_plugin || ksft_exit_skip "plugin not built"
checktool "socat -V" "run without socat"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "namespaces"

D=/proc/net/xt_ratewin
CASE=0	# each case its own table

# proc_field NS TABLE FIELD: FIELD of the table's only entry.
proc_field() {
	in_ns "$1" sed -n "s/.* $3=\\([^ ]*\\).*/\\1/p" "$D/$2"
}

# ping through an OUTPUT rule: burst 3, nothing refills in the test.
ping_case() { # ipt fam dst
	local ipt=$1 fam=$2 dst=$3 src adm over rule name=po$((CASE += 1))
	[ "$fam" = 6 ] && src=$IP6_A || src=$IP4_A
	rule="$(icmp_rule "$fam") -m ratewin --ratewin-name $name --ratewin-mode dstip --ratewin-rate 1/hour --ratewin-burst 3 -j DROP"
	# shellcheck disable=SC2086
	in_ns "$NS_A" "$ipt" -w -A OUTPUT $rule || { fail "$ipt: OUTPUT rule"; return; }
	in_ns "$NS_A" ping -q -n -c 7 -i 0.1 -W 1 -I "$src" "$dst" > /dev/null 2>&1
	adm=$(proc_field "$NS_A" "$name" admitted)
	over=$(proc_field "$NS_A" "$name" over)
	expect_eq "$ipt: 7 pings through OUTPUT, burst 3: admitted/over" \
		"$adm/$over" "3/4"
	expect_eq "$ipt: the over-limit ones were dropped in OUTPUT" \
		"$(rule_pkts "$NS_A" "$ipt" OUTPUT)" 4
	# shellcheck disable=SC2086
	in_ns "$NS_A" "$ipt" -w -D OUTPUT $rule
}

# TCP through an OUTPUT rule that admits everything: the rule's counter
# and the entry's must agree to the packet.
tcp_case() { # ipt fam dst
	local ipt=$1 fam=$2 dst=$3 port=$((5000 + RANDOM % 1000)) pid adm over pkts
	local name=to$((CASE += 1))
	local rule="-p tcp --dport $port -m ratewin --ratewin-name $name --ratewin-mode dstip --ratewin-rate 1000000/s --ratewin-burst 1000000 --ratewin-upto"
	local listen connect
	if [ "$fam" = 6 ]; then
		listen="TCP6-LISTEN:$port,reuseaddr"
		connect="TCP6:[$dst]:$port"
	else
		listen="TCP-LISTEN:$port,reuseaddr"
		connect="TCP:$dst:$port"
	fi
	# shellcheck disable=SC2086
	in_ns "$NS_A" "$ipt" -w -A OUTPUT $rule || { fail "$ipt: OUTPUT rule"; return; }
	in_ns "$NS_B" socat -u "$listen" OPEN:/dev/null > /dev/null 2>&1 &
	pid=$!
	wait_for 60 listening "$NS_B" "$port" || { fail "$ipt: listener"; kill "$pid"; return; }
	if in_ns "$NS_A" timeout 60 bash -c \
		"head -c 8000000 /dev/zero | socat -u - $connect" 2> /dev/null; then
		ok "$ipt: 8 MB over TCP through an OUTPUT rule"
	else
		fail "$ipt: 8 MB over TCP through an OUTPUT rule (did not complete in 60 s)"
	fi
	wait_for 60 bash -c "! kill -0 $pid" || kill "$pid" 2> /dev/null
	adm=$(proc_field "$NS_A" "$name" admitted)
	over=$(proc_field "$NS_A" "$name" over)
	pkts=$(in_ns "$NS_A" "$ipt" -w -nvxL OUTPUT | awk 'NR == 3 { print $1 }')
	expect_eq "$ipt: the entry counted every packet the rule saw (admitted/over)" \
		"$adm/$over" "$pkts/0"
	# shellcheck disable=SC2086
	in_ns "$NS_A" "$ipt" -w -D OUTPUT $rule
}

for ipt in $(ipt_backends 4); do
	ping_case "$ipt" 4 "$IP4_B"
	tcp_case "$ipt" 4 "$IP4_B"
done
for ipt in $(ipt_backends 6); do
	ping_case "$ipt" 6 "$IP6_B"
	tcp_case "$ipt" 6 "$IP6_B"
done
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A rule edited through iptables-restore keeps the table's state and applies
# the new limit on the next packet; iptables and ip6tables rules with one
# name share one table.
# vm-timeout: 240
# vm-boot: wrap
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "namespaces"

# restore IPT RULE-OPTS: replace the filter table with one counting rule
restore() {
	local ipt=$1
	shift
	printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT %s -m ratewin %s\nCOMMIT\n' \
		"$(icmp_rule 4)" "$*" | in_ns "$NS_B" "$ipt-restore"
}

changes_logged() { dmesg | grep -c "table $1: limits changed"; }

for ipt in $(ipt_backends 4); do
	t=w${ipt##*-}
	restore "$ipt" --ratewin-name "$t" --ratewin-window 3/60s ||
		{ fail "$ipt: restore"; continue; }
	ping_from "$NS_A" "$IP4_A" "$IP4_B" 2 0.1
	expect_eq "$ipt: 2 of 3 used" "$(rule_pkts "$NS_B" "$ipt")" 0
	restore "$ipt" --ratewin-name "$t" --ratewin-window 4/60s
	ping_from "$NS_A" "$IP4_A" "$IP4_B" 3 0.1
	expect_eq "$ipt: window 3 -> 4 keeps the 2 events (2 more in, 1 over)" \
		"$(rule_pkts "$NS_B" "$ipt")" 1
	expect_eq "$ipt: the change is logged once" "$(changes_logged "$t")" 1

	t=b${ipt##*-}
	restore "$ipt" --ratewin-name "$t" --ratewin-rate 1/minute --ratewin-burst 3
	ping_from "$NS_A" "$IP4_A" "$IP4_B" 3 0.1
	expect_eq "$ipt: the burst of 3 is used" "$(rule_pkts "$NS_B" "$ipt")" 0
	restore "$ipt" --ratewin-name "$t" --ratewin-rate 1/minute --ratewin-burst 6
	ping_from "$NS_A" "$IP4_A" "$IP4_B"
	expect_eq "$ipt: burst 3 -> 6 keeps the empty bucket (next is over)" \
		"$(rule_pkts "$NS_B" "$ipt")" 1
	restore "$ipt" --ratewin-name "$t" --ratewin-rate 1/minute --ratewin-burst 6
	expect_eq "$ipt: restoring the same rule logs nothing" "$(changes_logged "$t")" 1
	in_ns "$NS_B" "$ipt" -F INPUT
done

ip4=$(ipt_backends 4 | head -1)
ip6=$(ipt_backends 6 | head -1)
if [ -n "$ip4" ] && [ -n "$ip6" ]; then
	# one table of one entry: the IPv4 source fills it, the IPv6 one finds
	# it full. The IPv4 rule's table stores narrow keys; the IPv6 rule
	# makes them wide, and the IPv4 entry keeps its events.
	in_ns "$NS_B" "$ip4" -A INPUT $(icmp_rule 4) -m ratewin --ratewin-name sh \
		--ratewin-window 5/60s --ratewin-htable-max 1
	ping_from "$NS_A" "$IP4_A" "$IP4_B"
	slot_bytes() { in_ns "$NS_B" sed -n 's/^# memory .* slots of \([0-9]*\) bytes,.*/\1/p' /proc/net/xt_ratewin/sh; }
	expect_eq "IPv4 rules only: narrow keys, 64-byte slots" "$(slot_bytes)" 64
	in_ns "$NS_B" "$ip6" -A INPUT $(icmp_rule 6) -m ratewin --ratewin-name sh \
		--ratewin-window 5/60s --ratewin-htable-max 1
	expect_eq "the IPv6 rule made the keys wide: 80-byte slots, logged once" \
		"$(slot_bytes) $(dmesg | grep -c 'table sh: IPv6 rule: keys made wide')" "80 1"
	expect_eq "and the IPv4 entry kept its event" \
		"$(in_ns "$NS_B" grep -c "^src=$IP4_A .*window=1/5 .*admitted=1 " /proc/net/xt_ratewin/sh)" 1
	ping_from "$NS_A" "$IP4_A" "$IP4_B"
	ping_from "$NS_A" "$IP6_A" "$IP6_B"
	expect_eq "$ip4: IPv4 key admitted, twice in one entry" \
		"$(rule_pkts "$NS_B" "$ip4") $(in_ns "$NS_B" grep -c "^src=$IP4_A .*window=2/5 " /proc/net/xt_ratewin/sh)" "0 1"
	expect_eq "$ip6: IPv6 key finds the shared table full" \
		"$(rule_pkts "$NS_B" "$ip6")" 1
	in_ns "$NS_B" "$ip4" -F INPUT
	in_ns "$NS_B" "$ip6" -F INPUT
else
	skip "IPv4 and IPv6 share a table" "no iptables/ip6tables"
fi
ksft_exit

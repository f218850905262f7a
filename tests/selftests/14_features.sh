#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Masks, modes, upto, count-all, ban and a full table, with real packets.
# Windows are long where timing does not matter, so counts are exact.
# vm-timeout: 400
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
require_hz
setup_veth_pair || ksft_exit_fail "namespaces"

for a in 10 11 12; do
	ip -n "$NS_A" addr add 10.99.1.$a/24 dev veth0
	ip -n "$NS_A" addr add fd00:99:1::$a/64 dev veth0 nodad
done

# rule IPT FAM OPTS...: the only rule in INPUT, counting matches
rule() {
	local ipt=$1 fam=$2
	shift 2
	in_ns "$NS_B" "$ipt" -F INPUT
	# shellcheck disable=SC2046
	in_ns "$NS_B" "$ipt" -A INPUT $(icmp_rule "$fam") -m ratewin "$@"
}

pings() {	# pings SRC... : one echo request from each
	local s dst
	for s in "$@"; do
		case $s in *:*) dst=$IP6_B ;; *) dst=$IP4_B ;; esac
		ping_from "$NS_A" "$s" "$dst"
	done
}

for ipt in $(ipt_backends 4); do
	rule "$ipt" 4 --ratewin-name m24 --ratewin-window 3/60s --ratewin-srcmask 24
	pings 10.99.1.10 10.99.1.10 10.99.1.11 10.99.1.11
	expect_eq "$ipt: a /24 groups two sources (3 of 4 in, 1 over)" \
		"$(rule_pkts "$NS_B" "$ipt")" 1
	rule "$ipt" 4 --ratewin-name m32 --ratewin-window 3/60s
	pings 10.99.1.10 10.99.1.10 10.99.1.11 10.99.1.11
	expect_eq "$ipt: without a mask they are separate" \
		"$(rule_pkts "$NS_B" "$ipt")" 0

	in_ns "$NS_B" "$ipt" -F INPUT
	in_ns "$NS_B" "$ipt" -A INPUT -p udp -m ratewin --ratewin-name dp \
		--ratewin-mode dstport --ratewin-window 2/60s
	for p in 1000 1000 1000 1001 1001 1001; do udp_to "$NS_A" "$IP4_B" $p; done
	expect_eq "$ipt: dstport mode separates ports (1 over each)" \
		"$(rule_pkts "$NS_B" "$ipt")" 2
	in_ns "$NS_B" "$ipt" -F INPUT
	in_ns "$NS_B" "$ipt" -A INPUT -p udp -m ratewin --ratewin-name dp2 \
		--ratewin-mode srcip,dstport --ratewin-window 2/60s
	for p in 1000 1000 1000 1001; do udp_to "$NS_A" "$IP4_B" $p; done
	expect_eq "$ipt: srcip,dstport keys on both" "$(rule_pkts "$NS_B" "$ipt")" 1

	rule "$ipt" 4 --ratewin-name up --ratewin-window 3/60s --ratewin-upto
	pings 10.99.1.10 10.99.1.10 10.99.1.10 10.99.1.10 10.99.1.10
	expect_eq "$ipt: upto matches the admitted (3 of 5)" \
		"$(rule_pkts "$NS_B" "$ipt")" 3

	# count-all: a client retrying every 0.2 s is locked out while it
	# retries; without count-all the window lets 3 in per 2 s
	rule "$ipt" 4 --ratewin-name ca --ratewin-window 3/2s --ratewin-count-all
	ping_from "$NS_A" 10.99.1.10 "$IP4_B" 20 0.2
	expect_eq "$ipt: count-all keeps a retrying source out (17 of 20 over)" \
		"$(rule_pkts "$NS_B" "$ipt")" 17
	rule "$ipt" 4 --ratewin-name nca --ratewin-window 3/2s
	ping_from "$NS_A" 10.99.1.10 "$IP4_B" 20 0.2
	expect_range "$ipt: without count-all the window admits again" \
		"$(rule_pkts "$NS_B" "$ipt")" 8 14

	# ban: over once, then over for 10 s though the window (1 s) is empty.
	# The ban starts between t0 and t1 (around the third request), so it
	# must hold until t0 + 10 s and end by t1 + 10 s plus one poll; a slow
	# guest only widens t1 - t0. (Times in jiffies, the module's clock: a
	# starved guest's jiffies can lag behind the monotonic clock.)
	rule "$ipt" 4 --ratewin-name ban --ratewin-window 2/1s --ratewin-ban 10s
	t0=$(jiffies_ms)
	ping_from "$NS_A" 10.99.1.10 "$IP4_B" 3 0.1
	t1=$(jiffies_ms)
	expect_eq "$ipt: the third request in 1 s is over" "$(rule_pkts "$NS_B" "$ipt")" 1
	wait_for 1.5 false
	ping_from "$NS_A" 10.99.1.10 "$IP4_B"
	expect_eq "$ipt: banned after the window emptied" "$(rule_pkts "$NS_B" "$ipt")" 2
	# poll no faster than the window allows (2 per second), for 30 s;
	# ts_over: when the last request found over was sent
	n=2 t2= ts_over=$t1
	for _ in $(seq 50); do
		sleep 0.6
		ts=$(jiffies_ms)
		ping_from "$NS_A" 10.99.1.10 "$IP4_B"
		c=$(rule_pkts "$NS_B" "$ipt")
		if [ "$c" = "$n" ]; then
			t2=$(jiffies_ms)
			break
		fi
		n=$c ts_over=$ts
	done
	if [ -n "$t2" ]; then
		expect_range "$ipt: the 10 s ban holds (ms from before it began)" \
			$((t2 - t0)) 10000 1000000
		expect_range "$ipt: and ends (last over request sent, ms after it began)" \
			$((ts_over - t1)) -1000000 9999
	else
		fail "$ipt: admitted again once the 10 s ban ends"
	fi

	# a full table: new keys get the --ratewin-full verdict
	rule "$ipt" 4 --ratewin-name full --ratewin-window 1/60s --ratewin-htable-max 2
	pings 10.99.1.10 10.99.1.11 10.99.1.12
	expect_eq "$ipt: full table, new key is over by default" \
		"$(rule_pkts "$NS_B" "$ipt")" 1
	rule "$ipt" 4 --ratewin-name fullu --ratewin-window 1/60s \
		--ratewin-htable-max 2 --ratewin-full under
	pings 10.99.1.10 10.99.1.11 10.99.1.12 10.99.1.12
	expect_eq "$ipt: --ratewin-full under admits new keys" \
		"$(rule_pkts "$NS_B" "$ipt")" 0
	in_ns "$NS_B" "$ipt" -F INPUT
done

for ipt in $(ipt_backends 6); do
	rule "$ipt" 6 --ratewin-name m64 --ratewin-window 3/60s --ratewin-srcmask 64
	pings fd00:99:1::10 fd00:99:1::10 fd00:99:1::11 fd00:99:1::11
	expect_eq "$ipt: a /64 groups two sources" "$(rule_pkts "$NS_B" "$ipt")" 1
	rule "$ipt" 6 --ratewin-name m128 --ratewin-window 3/60s
	pings fd00:99:1::10 fd00:99:1::10 fd00:99:1::11 fd00:99:1::11
	expect_eq "$ipt: /128 keeps them apart" "$(rule_pkts "$NS_B" "$ipt")" 0
	in_ns "$NS_B" "$ipt" -F INPUT
done
ksft_exit

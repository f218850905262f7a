#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Token bucket: the same packets through a hashlimit rule and a ratewin rule
# with the same rate and burst are admitted in numbers that agree closely,
# on both backends and IPv6; in byte mode it admits what the exact bucket
# allows.
# vm-timeout: 240
# vm-boot: wrap
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
modprobe xt_hashlimit || ksft_exit_skip "no xt_hashlimit"
setup_veth_pair || ksft_exit_fail "namespaces"

# compare IPT FAM DST HASHLIMIT-OPTS -- RATEWIN-OPTS -- PING-OPTS
compare() {
	local ipt=$1 fam=$2 dst=$3 src hl rw n_hl n_rw diff tol desc
	shift 3
	hl=$(echo "$*" | awk -F' -- ' '{ print $1 }')
	rw=$(echo "$*" | awk -F' -- ' '{ print $2 }')
	desc="$ipt: $rw"
	[ "$fam" = 6 ] && src=$IP6_A || src=$IP4_A
	# shellcheck disable=SC2046
	in_ns "$NS_B" "$ipt" -A INPUT $(icmp_rule "$fam") -m hashlimit $hl \
		--hashlimit-mode srcip --hashlimit-name hl &&
	in_ns "$NS_B" "$ipt" -A INPUT $(icmp_rule "$fam") -m ratewin $rw \
		--ratewin-name rw --ratewin-upto || { fail "$desc: rules"; return; }
	# 250 requests at 50 per second: 5 s of a flow five times the rate
	in_ns "$NS_A" ping -q -n -c 250 -i 0.02 -W 1 \
		-I "$src" "$dst" > /dev/null 2>&1
	n_hl=$(rule_pkts "$NS_B" "$ipt")
	n_rw=$(in_ns "$NS_B" "$ipt" -w -nvxL INPUT | awk 'NR == 4 { print $1 }')
	diff=$((n_hl > n_rw ? n_hl - n_rw : n_rw - n_hl))
	tol=$((n_hl / 20 > 3 ? n_hl / 20 : 3))
	if [ "$diff" -le "$tol" ] && [ "$n_rw" -gt 0 ] && [ "$n_rw" -lt 250 ]; then
		ok "$desc: ratewin $n_rw, hashlimit $n_hl admitted of 250"
	else
		fail "$desc: ratewin $n_rw, hashlimit $n_hl admitted of 250 (tolerance $tol)"
	fi
	in_ns "$NS_B" "$ipt" -F INPUT
}

# bytes IPT: 1000-byte packets at 50/s against 10 kb/s with a 20 kb bucket.
# hashlimit's byte mode is not a bucket of that depth (it starts with one
# second of credit and counts "burst" extra refills), so ratewin is held to
# the exact expectation from the run's duration and hashlimit is shown too.
bytes() {
	local ipt=$1 ms want n_rw n_hl
	in_ns "$NS_B" "$ipt" -A INPUT $(icmp_rule 4) -m hashlimit \
		--hashlimit-upto 10kb/s --hashlimit-burst 20kb \
		--hashlimit-mode srcip --hashlimit-name hl &&
	in_ns "$NS_B" "$ipt" -A INPUT $(icmp_rule 4) -m ratewin \
		--ratewin-rate 10kb/s --ratewin-burst 20kb --ratewin-name rwb \
		--ratewin-upto || { fail "$ipt: byte rules"; return; }
	# ping's summary gives the span from the first request to the last
	ms=$(in_ns "$NS_A" ping -q -n -c 250 -i 0.02 -s 972 -W 1 "$IP4_B" 2>&1 |
		sed -n 's/.* time \([0-9]*\)ms.*/\1/p')
	n_hl=$(rule_pkts "$NS_B" "$ipt")
	n_rw=$(in_ns "$NS_B" "$ipt" -w -nvxL INPUT | awk 'NR == 4 { print $1 }')
	# 20480 bytes of bucket plus 10240 per second, 1000 bytes a packet
	want=$(((20480 + 10240 * ms / 1000) / 1000))
	expect_range "$ipt: byte mode admits what a 20 kb bucket at 10 kb/s allows in ${ms} ms (hashlimit: $n_hl)" \
		"$n_rw" $((want - 2)) $((want + 2))
	in_ns "$NS_B" "$ipt" -F INPUT
}

for ipt in $(ipt_backends 4); do
	compare "$ipt" 4 "$IP4_B" --hashlimit-upto 10/sec --hashlimit-burst 5 \
		-- --ratewin-rate 10/second --ratewin-burst 5
	compare "$ipt" 4 "$IP4_B" --hashlimit-upto 600/min --hashlimit-burst 20 \
		-- --ratewin-rate 600/minute --ratewin-burst 20
	bytes "$ipt"
done
for ipt in $(ipt_backends 6); do
	compare "$ipt" 6 "$IP6_B" --hashlimit-upto 10/sec --hashlimit-burst 5 \
		-- --ratewin-rate 10/second --ratewin-burst 5
done
ksft_exit

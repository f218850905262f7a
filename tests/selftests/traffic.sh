#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Traffic and counter helpers for the ratewin suites; source after lib.sh.

TOOL="python3 $XTRW_SRC/tests/selftests/tcptool.py"

# listening NS PORT: a TCP listener is up on PORT in NS.
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# rule_pkts NS IPT [CHAIN]: packet counter of the first rule in CHAIN.
rule_pkts() {
	ip netns exec "$1" "$2" -w -nvxL "${3:-INPUT}" | awk 'NR == 3 { print $1 }'
}

# ping_from NS SRC DST [COUNT [INTERVAL]]: echo requests from SRC to DST.
ping_from() {
	ip netns exec "$1" ping -q -n -c "${4:-1}" -i "${5:-0.2}" -W 1 -I "$2" "$3" \
		> /dev/null 2>&1
	true
}

# udp_to NS DST PORT: one UDP datagram.
udp_to() {
	ip netns exec "$1" bash -c "echo x > /dev/udp/$2/$3" 2> /dev/null
	true
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1 ($2)"
	else
		fail "$1 (got $2, want $3)"
	fi
}

# expect_range DESC GOT MIN MAX
expect_range() {
	if [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
		ok "$1 ($2 in $3..$4)"
	else
		fail "$1 (got $2, want $3..$4)"
	fi
}

# icmp_rule FAMILY: the match for echo requests of the family.
icmp_rule() {
	if [ "$1" = 6 ]; then
		echo "-p ipv6-icmp --icmpv6-type echo-request"
	else
		echo "-p icmp --icmp-type echo-request"
	fi
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# conn-above: N connections held open pass, the next is refused, closing
# one lets a new one in. IPv4 and IPv6, both backends.
# vm-timeout: 240
# vm-boot: wrap
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
checktool "python3 --version" "run without python3"
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "namespaces"

in_ns "$NS_B" $TOOL serve 80 > /dev/null 2>&1 &
cleanup_add kill $!
wait_for 60 listening "$NS_B" 80 || ksft_exit_fail "server listens"

run_case() {
	local ipt=$1 dst=$2 line i got=()
	local rule=(-p tcp --dport 80 --syn -m ratewin --ratewin-name conns
		    --ratewin-conn-above 3 -j REJECT --reject-with tcp-reset)

	in_ns "$NS_B" "$ipt" -A INPUT "${rule[@]}" || { fail "$ipt: rule"; return; }
	coproc HOLD { in_ns "$NS_A" $TOOL hold "$dst" 80 4; }
	for i in 0 1 2 3; do
		read -r -t 60 line <&"${HOLD[0]}"
		got+=("${line##* }")
	done
	expect_eq "$ipt: 3 held connections pass, the 4th is refused" \
		"${got[*]}" "ok ok ok refused"

	echo "close 0" >&"${HOLD[1]}"
	read -r -t 60 line <&"${HOLD[0]}"
	# the closed connection leaves the count once conntrack sees it close
	line=
	for i in $(seq 40); do
		echo open >&"${HOLD[1]}"
		read -r -t 60 line <&"${HOLD[0]}"
		[ "${line##* }" = ok ] && break
		sleep 0.25
	done
	expect_eq "$ipt: closing one lets a new one in" "${line##* }" ok
	echo open >&"${HOLD[1]}"
	read -r -t 60 line <&"${HOLD[0]}"
	expect_eq "$ipt: and then the next is refused again" "${line##* }" refused
	echo quit >&"${HOLD[1]}"
	wait "$HOLD_PID" 2> /dev/null
	in_ns "$NS_B" "$ipt" -D INPUT "${rule[@]}"
}

for ipt in $(ipt_backends 4); do
	run_case "$ipt" "$IP4_B"
done
for ipt in $(ipt_backends 6); do
	run_case "$ipt" "$IP6_B"
done
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Load xt_ratewin, add and delete a ratewin rule through iptables (nft
# backend), iptables-legacy and ip6tables, check that a legacy rule pins
# the module, unload it cleanly.
# vm-timeout: 120
. "$(dirname "$0")/lib.sh"

require_root
checktool "iptables -w -L -n" "run without a working iptables"

RULE=(-m ratewin --ratewin-name t --ratewin-window 5/60s)

check "insmod xt_ratewin (with its dependencies)" load_ratewin ||
	ksft_exit_fail "cannot go on without the module"
# Should a step fail, leave no rule behind for the suites after this one.
remove_rules() {
	local ipt
	for ipt in iptables iptables-legacy ip6tables ip6tables-legacy; do
		while "$ipt" -w -D INPUT "${RULE[@]}" -j DROP 2> /dev/null; do :; done
	done
}
cleanup_add remove_rules
check "lsmod lists xt_ratewin" bash -c 'lsmod | grep -q "^xt_ratewin "'

if have_plugin; then
	for ipt in iptables iptables-legacy ip6tables ip6tables-legacy; do
		if ! command -v "$ipt" > /dev/null; then
			skip "$ipt: add, list, delete a ratewin rule" "$ipt not installed"
			continue
		fi
		check "$ipt: add a ratewin rule" "$ipt" -w -A INPUT "${RULE[@]}" -j DROP
		check "$ipt: the rule is listed" \
			bash -c "$ipt -w -S INPUT | grep -q -- '-m ratewin .*--ratewin-name t'"
		check "$ipt: delete the rule" "$ipt" -w -D INPUT "${RULE[@]}" -j DROP
	done

	check "iptables-legacy: rule in place again" \
		iptables-legacy -w -A INPUT "${RULE[@]}" -j DROP
	check_fail "rmmod refused while a legacy rule uses the module" rmmod xt_ratewin
	check "iptables-legacy: delete the rule" \
		iptables-legacy -w -D INPUT "${RULE[@]}" -j DROP
else
	for ipt in iptables iptables-legacy ip6tables ip6tables-legacy; do
		skip "$ipt: add, list, delete a ratewin rule" "plugin libxt_ratewin.so not built"
	done
	skip "rmmod refused while a legacy rule uses the module" "no plugin"
fi

# nf_tables drops its module references from a work queue, so a just
# deleted nft rule may pin the module for a moment.
check "rmmod xt_ratewin" wait_for 60 rmmod xt_ratewin
check "xt_ratewin is gone" bash -c '! grep -q "^xt_ratewin " /proc/modules'

if ! have_plugin; then
	echo "1..$XTRW_N"
	info "plugin not built: the rule tests were skipped"
	exit $ksft_skip
fi
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own defence: tests/fuzz/mtinfo_kernel.c submits generated
# and mutated ratewin matchinfo through the legacy setsockopt path
# (IPT_SO_SET_REPLACE, IPv4 and IPv6, a table replace per case) and
# through nft_compat (nft rules with a match expression, up to 256 cases
# to a batch, each answered on its own), 10,000 cases each by default,
# both paths at once (each in a namespace of its own);
# checkentry must take every valid one and refuse every invalid one with
# EINVAL (validity by the ABI's rules, tests/fuzz/mtinfo_oracle.h), and
# the kernel log must stay clean (the harness checks that).
# Kernel command line xtrw_mtfuzz_cases=N and xtrw_mtfuzz_seed=S change
# the number of cases per path and the seed (make matchinfo-fuzz).
# vm-timeout: 300
# vm-boot: heavy
. "$(dirname "$0")/lib.sh"

require_root
checktool "gcc --version" "build the matchinfo fuzzer without gcc"
checktool "test -f /usr/include/libnftnl/rule.h" "build without libnftnl-dev"
checktool "test -f /usr/include/libmnl/libmnl.h" "build without libmnl-dev"

cmdline_arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
CASES=$(cmdline_arg xtrw_mtfuzz_cases)
CASES=${CASES:-${MTFUZZ_CASES:-10000}}
SEED=$(cmdline_arg xtrw_mtfuzz_seed)
SEED=${SEED:-${MTFUZZ_SEED:-$(( (RANDOM << 30) ^ (RANDOM << 15) ^ RANDOM ))}}

check "insmod xt_ratewin" load_ratewin || ksft_exit_fail "no module"
for m in iptable_filter ip6table_filter nf_tables nft_compat nf_conntrack; do
	modprobe "$m" 2> /dev/null
done

# Base chains on every hook, in this namespace, for the whole run. Each
# accepted rule with a connection limit brings conntrack's hooks up and
# down in the fuzzer's namespace; with no other user of a hook, that
# switches the kernel's static key for it (nf_hooks_needed) and patches
# the receive path's code, hundreds of times while traffic runs. Under
# multi-threaded TCG on the debug kernel that livelocked both vCPUs at
# the patched branch in ip_rcv (RCU stall reports for 20 minutes, the
# module in neither stack). Held on, the keys never switch.
check "hold the netfilter hooks on (nft table xtrw_fuzz_hooks)" nft -f - <<'NFT'
table inet xtrw_fuzz_hooks {
	chain hook_pre { type filter hook prerouting priority 0; }
	chain hook_in { type filter hook input priority 0; }
	chain hook_fwd { type filter hook forward priority 0; }
	chain hook_out { type filter hook output priority 0; }
	chain hook_post { type filter hook postrouting priority 0; }
}
NFT
cleanup_add nft delete table inet xtrw_fuzz_hooks

# The program: prebuilt by `make reliability-tools` when newer than its
# source, else built here (the checkout is read-only in the guest).
SRCF=$XTRW_SRC/tests/fuzz/mtinfo_kernel.c
BIN=$XTRW_SRC/build/tools/ratewin_mtfuzz
if ! [ -x "$BIN" ] || [ "$SRCF" -nt "$BIN" ] ||
	[ "$XTRW_SRC/tests/fuzz/mtinfo_oracle.h" -nt "$BIN" ]; then
	BIN=$(mktemp -d)/ratewin_mtfuzz
	check "build the matchinfo fuzzer" gcc -O2 -g -Wall -Wextra -Werror \
		-I"$XTRW_SRC/include/uapi" -o "$BIN" "$SRCF" -lnftnl -lmnl ||
		ksft_exit_fail "cannot build tests/fuzz/mtinfo_kernel.c"
fi

info "cases per path: $CASES, seed: $SEED (rerun: make matchinfo-fuzz MTFUZZ_SEED=$SEED)"
kmsg "matchinfo fuzz: legacy and nft, $CASES cases each, seed $SEED"
declare -A out=() pid=()
for path in legacy nft; do
	out[$path]=$(mktemp)
	"$BIN" -n "$CASES" -s "$SEED" -p "$path" > "${out[$path]}" 2>&1 &
	pid[$path]=$!
done
for path in legacy nft; do
	wait "${pid[$path]}"
	rc=$?
	sed 's/^[^#]/# &/' "${out[$path]}"
	summary=$(grep "^# $path: " "${out[$path]}" | tail -n1 | sed 's/^# //')
	if [ $rc = 0 ]; then
		ok "$path: checkentry agrees with the ABI on every case ($summary)"
	else
		fail "$path: exit $rc (${summary:-no summary})"
	fi
	rm -f "${out[$path]}"
done

check "release the hooks" nft delete table inet xtrw_fuzz_hooks

# The tables of the accepted rules went with their rules.
check "no table left behind" bash -c '! ls /proc/net/xt_ratewin/ 2>/dev/null | grep -q .'
check "rmmod xt_ratewin" wait_for 60 rmmod xt_ratewin
ksft_exit

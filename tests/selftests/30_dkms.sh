#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The installed path, as a server sees it: the host ran `make dkms-install`
# for this kernel (tests/install/check.sh, `make check-install`), and here,
# with no insmod and no XTABLES_LIBDIR, iptables and ip6tables rules using
# -m ratewin autoload the DKMS module through its aliases and work.
# Runs only in the boot that tests/install/check.sh starts (kernel command
# line xtrw_dkms=1); anywhere else it skips.
# vm-timeout: 120
# vm-run: install
. "$(dirname "$0")/lib.sh"

require_root
grep -qw xtrw_dkms=1 /proc/cmdline ||
	ksft_exit_skip "needs the host-side DKMS install (make check-install)"

# Nothing from the build tree: the system xtables directory only.
unset XTABLES_LIBDIR
KVER=$(uname -r)
XTLIBDIR=$(pkg-config --variable=xtlibdir xtables 2> /dev/null)
: "${XTLIBDIR:=/usr/lib/x86_64-linux-gnu/xtables}"
WANT_VERSION=$(cat "$XTRW_SRC/VERSION" 2> /dev/null)

checktool "iptables -w -L -n" "run without a working iptables"
checktool "socat -V" "run without socat"

# ---- what the host installed, as modprobe resolves it ----
check "xt_ratewin is not loaded at the start" \
	bash -c '! grep -q "^xt_ratewin " /proc/modules'
path=$(modinfo -F filename xt_ratewin 2> /dev/null)
case $path in
/lib/modules/$KVER/updates/*xt_ratewin.ko*) ok "modinfo xt_ratewin resolves to the DKMS copy ($path)" ;;
*) fail "modinfo xt_ratewin resolves to the DKMS copy (got '${path:-nothing}')" ;;
esac
for alias in ipt_ratewin ip6t_ratewin; do
	check "modprobe resolves the alias $alias to xt_ratewin" \
		bash -c "modprobe -n -v --first-time $alias 2>&1 | grep -q 'xt_ratewin.ko'"
done
ver=$(modinfo -F version xt_ratewin 2> /dev/null)
if [ -z "$ver" ]; then
	skip "module version is VERSION ($WANT_VERSION)" "the module has no MODULE_VERSION yet"
elif [ "$ver" = "$WANT_VERSION" ]; then
	ok "module version is VERSION ($ver)"
else
	fail "module version is VERSION (module says '$ver', VERSION says '$WANT_VERSION')"
fi
check "the plugin is in the system xtables dir ($XTLIBDIR)" \
	test -f "$XTLIBDIR/libxt_ratewin.so"
check "iptables -m ratewin --help finds the plugin without XTABLES_LIBDIR" \
	bash -c 'iptables -m ratewin --help 2>/dev/null | grep -q -- --ratewin-window'

# ---- a rule autoloads the module, and it works ----
setup_veth_pair || ksft_exit_fail "cannot set up the veth pair"
PORT=5022
RULE=(-p tcp --dport "$PORT" --syn -m ratewin --ratewin-name dkms
	--ratewin-window 2/60s -j REJECT --reject-with tcp-reset)

in_ns "$NS_B" socat "TCP6-LISTEN:$PORT,ipv6only=0,fork,reuseaddr" SYSTEM:true &
cleanup_add kill $!
wait_for 60 bash -c "ip netns exec $NS_B ss -ltn | grep -q ':$PORT '"

check "iptables -A ... -m ratewin (nft backend) succeeds with no insmod" \
	in_ns "$NS_B" iptables -w -A INPUT "${RULE[@]}"
check "the rule autoloaded xt_ratewin" bash -c 'grep -q "^xt_ratewin " /proc/modules'
dkms_srcver=$(modinfo -F srcversion "$path" 2> /dev/null)
if [ -n "$dkms_srcver" ] && [ -r /sys/module/xt_ratewin/srcversion ]; then
	check "the loaded module matches the DKMS copy (srcversion $dkms_srcver)" \
		grep -qx "$dkms_srcver" /sys/module/xt_ratewin/srcversion
else
	skip "the loaded module matches the DKMS copy" "no srcversion to compare"
fi
check "iptables -S shows the rule" \
	bash -c "ip netns exec $NS_B iptables -w -S INPUT | grep -q -- '-m ratewin --ratewin-name dkms --ratewin-window 2/1m'"

# Four new connections: the window admits two.
connect() { in_ns "$NS_A" socat -u OPEN:/dev/null "TCP:$1:$PORT,connect-timeout=3"; }
res=""
for i in 1 2 3 4; do
	if connect "$IP4_B" 2> /dev/null; then res+="y"; else res+="n"; fi
done
if [ "$res" = yynn ]; then
	ok "IPv4: window 2/60s admits 2 of 4 connections (yynn)"
else
	fail "IPv4: window 2/60s admits 2 of 4 connections (got $res)"
fi
check "ip6tables -A ... -m ratewin succeeds" in_ns "$NS_B" ip6tables -w -A INPUT "${RULE[@]}"
res=""
for i in 1 2 3; do
	if connect "[$IP6_B]" 2> /dev/null; then res+="y"; else res+="n"; fi
done
if [ "$res" = yyn ]; then
	ok "IPv6: the same table admits 2 of 3 from a new source (yyn)"
else
	fail "IPv6: the same table admits 2 of 3 from a new source (got $res)"
fi
if [ -r "/proc/net/xt_ratewin/dkms" ] || in_ns "$NS_B" test -r /proc/net/xt_ratewin/dkms; then
	in_ns "$NS_B" cat /proc/net/xt_ratewin/dkms | sed 's/^/# /'
	check "/proc/net/xt_ratewin/dkms lists the IPv4 client" \
		bash -c "ip netns exec $NS_B cat /proc/net/xt_ratewin/dkms | grep -q 'src=$IP4_A '"
else
	skip "/proc/net/xt_ratewin/dkms lists the IPv4 client" "no /proc file yet"
fi
check "delete the rules" bash -c \
	"ip netns exec $NS_B iptables -w -D INPUT ${RULE[*]} && ip netns exec $NS_B ip6tables -w -D INPUT ${RULE[*]}"

if command -v iptables-legacy > /dev/null; then
	check "iptables-legacy -A ... -m ratewin succeeds" \
		in_ns "$NS_B" iptables-legacy -w -A INPUT "${RULE[@]}"
	check "iptables-legacy -D of the same rule" \
		in_ns "$NS_B" iptables-legacy -w -D INPUT "${RULE[@]}"
fi

# Back to nothing loaded.
ip netns del "$NS_A" 2> /dev/null
ip netns del "$NS_B" 2> /dev/null
check "rmmod xt_ratewin" wait_for 60 rmmod xt_ratewin

ksft_exit

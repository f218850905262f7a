#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Time. Long durations: rules with 30-day windows, bans and expiry, and
# 1/day with burst 1,000,000, are taken by the kernel (legacy and nft)
# and decide right. The 32-bit jiffies wrap: Linux starts jiffies 5
# minutes before the low 32 bits wrap (INITIAL_JIFFIES), so at about 300 s
# of uptime rw_now() goes from 0xffffffff to 0. A scripted scenario (a
# 3/8s window, a 1/10s bucket with burst 2, a 2/30d window, 1/day with
# burst 3; nine packets each over 12.5 s) runs once well before the wrap
# and once with the wrap between its two halves, and must give the same
# decisions, the expected ones, both times.
# The wrap part needs the suite to start before ~280 s of uptime: in make
# check it runs in boot "wrap" (beside the others) after a few short
# suites that fill the wait; make jiffies-wrap gives it a boot of its own
# (about 6 minutes: it waits for the wrap). Started later, it skips that
# part and says so.
# vm-timeout: 420
# vm-boot: wrap
. "$(dirname "$0")/lib.sh"

require_root
have_plugin || ksft_exit_skip "plugin not built"
checktool "python3 --version" "run without python3"
check "insmod xt_ratewin" load_ratewin || ksft_exit_fail "no module"
setup_ns NS || ksft_exit_fail "namespace"
D=/proc/net/xt_ratewin

# entry_field TABLE FIELD: FIELD= of the (only) entry of TABLE in $NS
entry_field() {
	in_ns "$NS" cat "$D/$1" | grep -v '^#' | head -n1 | tr ' ' '\n' |
		sed -n "s/^$2=//p"
}

# ---- long durations ----

for ipt in $(ipt_backends 4); do
	check "$ipt: 1000000/30d window, 30d ban, 30d expiry accepted" \
		in_ns "$NS" "$ipt" -w -A INPUT -p udp --dport 7001 -m ratewin \
		--ratewin-name long30 --ratewin-window 1000000/30d --ratewin-ban 30d \
		--ratewin-htable-expire 2592000000
	check "$ipt: 1/day with burst 1000000 accepted" \
		in_ns "$NS" "$ipt" -w -A INPUT -p udp --dport 7002 -m ratewin \
		--ratewin-name day1m --ratewin-rate 1/day --ratewin-burst 1000000
	check "$ipt: 1/day with burst 1 accepted" \
		in_ns "$NS" "$ipt" -w -A INPUT -p udp --dport 7003 -m ratewin \
		--ratewin-name day1 --ratewin-rate 1/day --ratewin-burst 1
	check_fail "$ipt: a 31-day window refused" \
		in_ns "$NS" "$ipt" -w -A INPUT -m ratewin --ratewin-name x31 \
		--ratewin-window 1/31d
	check "$ipt: flush" in_ns "$NS" "$ipt" -w -F INPUT
done
# Decisions, with the legacy backend (the table is the same for both).
IPT=$(ipt_backends 4 | tail -n1)
in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 7002 -m ratewin \
	--ratewin-name day1m --ratewin-rate 1/day --ratewin-burst 1000000
in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 7003 -m ratewin \
	--ratewin-name day1 --ratewin-rate 1/day --ratewin-burst 1
in_ns "$NS" python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(1000):
    s.sendto(b"x", ("127.0.0.1", 7002))
for _ in range(3):
    s.sendto(b"x", ("127.0.0.1", 7003))
EOF
expect() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1 (got '$2', want '$3')"; fi
}
expect "1/day burst 1e6: 1000 packets all admitted" "$(entry_field day1m admitted)" 1000
tok=$(entry_field day1m tokens)
case $tok in
999000.*/1000000) ok "1/day burst 1e6: tokens $tok" ;;
*) fail "1/day burst 1e6: tokens $tok, want 999000.x/1000000" ;;
esac
expect "1/day burst 1: one of three admitted" \
	"$(entry_field day1 admitted)/$(entry_field day1 over)" 1/2
in_ns "$NS" "$IPT" -w -F INPUT

# ---- the wrap ----

# j(): jiffies (64 bits) from /proc/timer_list, for the Python snippets
JIFFIES_PY='import re
def j():
    with open("/proc/timer_list") as f:
        for line in f:
            m = re.match(r"jiffies: (\d+)", line)
            if m:
                return int(m.group(1))
'

# jiffies, uptime, and HZ measured
read -r J0 U0 < <(python3 -c "$JIFFIES_PY"'
with open("/proc/uptime") as f:
    up = float(f.read().split()[0])
print(j(), up)')
# Past the wrap (a full make check gets here after it): nothing to wait
# for, and no need to measure HZ.
if [ "$J0" -ge 4294967296 ]; then
	skip "scenario across the jiffies wrap" \
		"the wrap is past (jiffies $J0 at uptime $U0 s); it needs its own boot: make jiffies-wrap"
	ksft_exit
fi
HZ=$(python3 -c "$JIFFIES_PY"'
import time
a, t = j(), time.monotonic()
time.sleep(2)
b, u = j(), time.monotonic()
hz = (b - a) / (u - t)
print(min((100, 250, 300, 1000), key=lambda h: abs(h - hz)))')
info "jiffies $J0 at uptime $U0 s, HZ $HZ"
WRAP_IN=$(awk -v j="$J0" -v hz="$HZ" 'BEGIN { printf "%.1f", (4294967296 - j) / hz }')
info "the low 32 bits of jiffies wrap in $WRAP_IN s"

# too close: the rules would not be in place in time
if awk -v w="$WRAP_IN" 'BEGIN { exit !(w < 15) }'; then
	skip "scenario across the jiffies wrap" \
		"the wrap is ${WRAP_IN#-} s $(awk -v w="$WRAP_IN" 'BEGIN { print (w < 0 ? "past" : "away: too close") }') (uptime $U0 s); it needs its own boot: make jiffies-wrap"
	ksft_exit
fi

# The rules of the scenario: port 9 window, 10 bucket, 11 long window,
# 12 one a day.
rules() {
	in_ns "$NS" "$IPT" -w -F INPUT
	# tables go with their rules: new entries, new counters each run
	wait_for 60 bash -c "! ip netns exec $NS ls $D | grep -q ."
	in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 9 -m ratewin \
		--ratewin-name w --ratewin-window 3/8s -j DROP &&
	in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 10 -m ratewin \
		--ratewin-name b --ratewin-rate 1/10s --ratewin-burst 2 -j DROP &&
	in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 11 -m ratewin \
		--ratewin-name l --ratewin-window 2/30d -j DROP &&
	in_ns "$NS" "$IPT" -w -A INPUT -p udp --dport 12 -m ratewin \
		--ratewin-name d --ratewin-rate 1/day --ratewin-burst 3 \
		--ratewin-htable-expire 500 --ratewin-htable-gcinterval 100 -j DROP
}

# scenario [START]: sends on a fixed schedule, from when jiffies reach
# START if given (the wait is in the process that sends: starting Python in
# the namespace took seconds on a loaded guest); prints the jiffies seen
# before the gap and after it, then "table admitted over" per table.
scenario() {
	in_ns "$NS" python3 -c "$JIFFIES_PY"'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 2:
    start, hz = int(sys.argv[1]), int(sys.argv[2])
    while j() < start:
        time.sleep(min(max((start - j()) / hz - 0.05, 0.002), 1))
    print("start", j())
t0 = time.monotonic()
for at in (0, 0.5, 1, 1.5, 5, "before", 11, 11.5, 12, 12.5, "after"):
    if isinstance(at, str):
        print(at, j())
        continue
    d = t0 + at - time.monotonic()
    if d > 0:
        time.sleep(d)
    for port in (9, 10, 11, 12):
        s.sendto(b"x", ("127.0.0.1", port))
for name in ("w", "b", "l", "d"):
    with open("/proc/net/xt_ratewin/" + name) as f:
        e = [l for l in f if not l.startswith("#")][0]
    kv = dict(x.split("=", 1) for x in e.split())
    print(name, kv["admitted"], kv["over"])' "$@"
}

WANT="w 6 3
b 3 6
l 2 7
d 3 6"

# decisions FILE: the scenario's "table admitted over" lines
decisions() { grep -v '^before\|^after\|^start' "$1"; }

# judge WHAT FILE: the scenario's output against the expected decisions
judge() {
	local res
	sed 's/^/#   /' "$2"
	res=$(decisions "$2")
	if [ "$res" = "$WANT" ]; then
		ok "$1: admitted/over as expected for the window, bucket, 30-day window and 1/day"
	else
		fail "$1: decisions differ from the expected ones"
		info "want: $(echo "$WANT" | tr '\n' ';')"
	fi
}

A=$(mktemp)
B=$(mktemp)
cleanup_add rm -f "$A" "$B"
# the scenario before it takes about 15 s, and the one across still needs 9
if awk -v w="$WRAP_IN" 'BEGIN { exit !(w > 40) }'; then
	kmsg "scenario before the wrap"
	check "before the wrap: rules" rules
	scenario > "$A"
	judge "before the wrap" "$A"
else
	skip "before the wrap" "not enough time left before it"
	echo "$WANT" > "$A"
fi

# Start 8 s before the wrap: it falls in the gap between 5 s and 11 s.
# The scenario may start up to 9 s before it; a guest so slow that the
# rules took longer skips (the wrap does not come again in this boot).
check "across the wrap: rules" rules
left=$(awk -v j="$(jiffies_now)" -v hz="$HZ" 'BEGIN { printf "%.2f", (4294967296 - j) / hz }')
if awk -v w="$left" 'BEGIN { exit !(w < 9) }'; then
	skip "scenario across the jiffies wrap" \
		"the rules were in place only $left s before the wrap (uptime $(cut -d' ' -f1 /proc/uptime) s); it needs its own boot: make jiffies-wrap"
	ksft_exit
fi
info "the scenario starts 8 s before the wrap, in $(awk -v w="$left" 'BEGIN { printf "%.2f", w - 8 }') s"
kmsg "scenario across the wrap"
scenario $((4294967296 - 8 * HZ)) "$HZ" > "$B"
judge "across the wrap" "$B"
jb=$(awk '$1 == "before" { print $2 }' "$B")
ja=$(awk '$1 == "after" { print $2 }' "$B")
if [ -n "$jb" ] && [ -n "$ja" ] && [ "$jb" -lt 4294967296 ] && [ "$ja" -ge 4294967296 ]; then
	ok "the 32-bit wrap fell between the two halves (jiffies $jb, then $ja)"
else
	fail "the wrap did not fall inside the scenario (jiffies $jb, then $ja)"
fi
expect "same decisions across the wrap as before it" \
	"$(decisions "$B" | tr '\n' ';')" \
	"$(decisions "$A" | tr '\n' ';')"
ksft_exit

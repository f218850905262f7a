#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stress: for STRESS_SECONDS (60 here; make stress: longer) at once
#   - a pktgen flood into a dummy device (netif_receive): IPv4 from random
#     sources, IPv6 to random destinations, seen by raw PREROUTING rules;
#   - iptables-restore swapping rulesets every 100 ms (as fast as restore
#     goes under TCG, one loop per backend), legacy and nft,
#     IPv4 and IPv6, with the same table names and changed limits (the
#     migration path), changed key fields (the flush path), conn-above,
#     small tables (full), short expiry and GC intervals;
#   - /proc reads, flushes and +KEY/-KEY writes in a loop;
#   - network namespaces with legacy and nft ratewin rules created and
#     destroyed, a /proc file held open across the destruction;
#   - rmmod attempted every half second: it must fail (a legacy rule pins
#     the module), never crash.
# Then every rule goes: no table may be left but the pin's, and it holds
# no entry; the module's own live objects (entries, tables, configurations:
# the objects whose allocation site is in [xt_ratewin], from SLUB's
# /sys/kernel/debug/slab/*/alloc_traces, kept with slub_debug=U, asked for
# below) must be what the pin accounts for and the same as at the baseline
# taken after a warm-up, polled up to 20 s (RCU callbacks free entries).
# Both are counted with the rest drained: conntrack flushed, the flood's
# device deleted, dead namespaces cleaned up, grace periods run. The shared
# kmalloc-* caches and SUnreclaim are shown, not judged (other subsystems
# move them). Then rmmod must succeed; the kernel log must stay clean.
# make check-leak-selftest proves a build that leaks makes this fail.
# Kernel command line xtrw_stress_seconds=N overrides the duration.
# vm-timeout: 480
# vm-boot: heavy
# vm-append: slub_debug=U,kmalloc-*,nf_conncount*
. "$(dirname "$0")/lib.sh"

require_root
have_plugin || ksft_exit_skip "plugin not built"
checktool "iptables-legacy-restore --version" "run without iptables-legacy-restore"
checktool "iptables-nft-restore --version" "run without iptables-nft-restore"

cmdline_arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
SECS=$(cmdline_arg xtrw_stress_seconds)
SECS=${SECS:-${STRESS_SECONDS:-60}}
WARMUP=${STRESS_WARMUP:-3}
W=$(mktemp -d)
D=/proc/net/xt_ratewin
DEV=xtrwd0
NAMES=(s1 s2 s3 s4)

check "insmod xt_ratewin" load_ratewin || ksft_exit_fail "no module"
for m in pktgen dummy iptable_raw iptable_filter iptable_mangle ip6table_raw \
	ip6table_filter nf_tables nft_compat nf_conntrack; do
	modprobe "$m" 2> /dev/null
done
[ -d /proc/net/pktgen ] || ksft_exit_skip "no pktgen"
NETNS_WAIT=${STRESS_NETNS_WAIT:-60}
NETNS_STABLE=${STRESS_NETNS_STABLE:-10}
# the debug kernel takes longer over a batch of dead namespaces
[ -e /proc/lockdep ] && NETNS_STABLE=${STRESS_NETNS_STABLE:-40}

# ---- measuring ----

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# settle: let freed memory go back and other subsystems' state drain, so
# that what is left is what is really held. Conntrack entries of the flood
# (a full table is 65536 of them, with their extensions in kmalloc-192) go
# with conntrack -F; dead namespaces are cleaned up by a worker; deferred
# nft destruction and rhashtable bucket frees run from work and RCU
# callbacks. An rcu_barrier() is not reachable from userspace; grace
# periods (membarrier(MEMBARRIER_CMD_GLOBAL) is a synchronize_rcu()) and
# time are.
settle() {
	local i n last=-1 same=0
	# the namespaces of nschurn: their cleanup runs from a worker, and
	# takes seconds on a debug kernel. One struct net has been seen to
	# outlive them all (not the module's: it holds no namespace), so the
	# wait also ends once the count has not moved for NETNS_STABLE s.
	for ((i = 0; i < NETNS_WAIT; i++)); do
		n=$(netns_objs)
		[ "$n" -le "$NETNS0" ] && break
		if [ "$n" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge "$NETNS_STABLE" ] && break
		else
			same=0
			last=$n
		fi
		sleep 1
	done
	[ "$n" -gt "$NETNS0" ] && info "namespaces: $n after ${i} s, $NETNS0 at the start"
	for i in 1 2 3; do
		conntrack -F > /dev/null 2>&1
		[ "$(cat /proc/sys/net/netfilter/nf_conntrack_count 2> /dev/null || echo 0)" = 0 ] && break
		sleep 1
	done
	grace_periods
}

# grace_periods: RCU callbacks (entry and configuration frees) run, freed
# memory goes back.
grace_periods() {
	python3 -c 'import ctypes, os, time
l = ctypes.CDLL(None, use_errno=True)
for _ in range(2):
    os.sync()
    open("/proc/sys/vm/drop_caches", "w").write("3")
    for _ in range(4):
        l.syscall(324, 1, 0, 0)
    time.sleep(1)' 2> /dev/null
}

# struct net objects, live and being cleaned up (exact after a shrink)
netns_objs() {
	echo 1 > /sys/kernel/slab/net_namespace/shrink 2> /dev/null
	awk '$1 == "net_namespace" { n = $2 } END { print n + 0 }' /proc/slabinfo
}
# (before any namespace of the run: netns_objs is defined just above)
NETNS0=$(netns_objs)

# slab_state FILE: "cache active-objects object-size" for every slab cache,
# exact: each cache is shrunk first (SLUB counts the free objects of the
# per-CPU slabs as active until they are flushed back).
slab_state() {
	local c
	settle
	for c in $(find /sys/kernel/slab -mindepth 1 -maxdepth 1 -type d); do
		echo 1 > "$c/shrink"
	done 2> /dev/null
	awk 'NR > 2 { print $1, $2, $4, $5 }' /proc/slabinfo > "$1"
	echo "# meminfo $(meminfo Slab) $(meminfo SUnreclaim)" >> "$1"
	echo "# conntrack $(cat /proc/sys/net/netfilter/nf_conntrack_count 2> /dev/null || echo -)" >> "$1"
	echo "# tables $(ls "$D" 2> /dev/null | tr '\n' ' ')" >> "$1"
}

# slab_diff BEFORE AFTER: per cache "cache before after delta-objects
# delta-bytes objsize objects-per-slab", largest growth in bytes first
slab_diff() {
	awk '$1 == "#" { next }
	     NR == FNR { b[$1] = $2; next }
	     { d = $2 - b[$1]; print $1, b[$1] + 0, $2, d, d * $3, $3, $4 }' "$1" "$2" |
		sort -k5,5nr
}
# The shared caches the module allocates from (kmalloc) and the connection
# lists of conn-above (nf_conncount): shown, not judged.
ours() { grep -E '^(kmalloc-[0-9]+k?|nf_conncount[a-z_]*) '; }

# own_objects: the module's own live objects, from SLUB's allocation
# traces (the caches slub_debug=U tracks): one line per cache and site,
# "own CACHE SITE COUNT", for the sites in the module (its kmalloc and
# kzalloc calls: entries, tables, configurations). A trace is a paragraph:
# "COUNT SITE [MODULE] age=...", then its call stack a frame a line. Only
# the site counts, not the frames below it: a frame may be the address of
# another module's init code, freed since and symbolised as whatever now
# lies there.
SLABDBG=/sys/kernel/debug/slab
own_objects() {
	local f c
	for f in "$SLABDBG"/*/alloc_traces; do
		[ -r "$f" ] || continue
		c=${f%/alloc_traces}
		c=${c##*/}
		awk -v c="$c" -v RS= '$3 == "[xt_ratewin]" { n[c " " $2] += $1 }
			END { for (k in n) print "own", k, n[k] }' "$f"
	done | sort
}
# own_total FILE: the objects of FILE
own_total() { awk '$1 == "own" { n += $4 } END { print n + 0 }' "$1"; }
# own_sites FILE: "SITE COUNT" a line, the sites without their offsets (a
# function is one site whatever the cache and the call in it)
own_sites() {
	awk '$1 == "own" { s = $3; sub(/\+.*/, "", s); n[s] += $4 }
	     END { for (s in n) print s, n[s] }' "$1" | sort
}
# expected_own: the objects the module's live tables account for, each
# table its struct, its configuration and its array's header (entries
# live in the array's slots, which are never slab objects: over 8 KB)
expected_own() {
	local t n=0
	for t in "$D"/*; do
		[ -e "$t" ] || continue
		n=$((n + 3))
	done
	echo "$n"
}
# ---- the flood ----

pg() { echo "$2" > "/proc/net/pktgen/$1" || info "pktgen $1: '$2' failed"; }

flood_setup() {
	ip link add "$DEV" type dummy || return 1
	ip link set "$DEV" up
	ip addr add 10.200.0.1/16 dev "$DEV"
	ip -6 addr add fd00:200::1/64 dev "$DEV" nodad
	local mac
	mac=$(cat "/sys/class/net/$DEV/address")
	pg kpktgend_0 rem_device_all
	pg kpktgend_1 rem_device_all 2> /dev/null
	pg kpktgend_0 "add_device $DEV@0"
	# IPv4: random sources over 10/8, to us, random UDP ports
	local d=$DEV@0
	pg "$d" "xmit_mode netif_receive"
	pg "$d" "count 0"
	pg "$d" "pkt_size 60"
	# pktgen busy-waits between packets when they are less than 100 us
	# apart: below 10000 per second it sleeps, and the vCPUs are left for
	# the rest of the stress (under TCG it sends no faster either way)
	pg "$d" "ratep 8000"
	pg "$d" "dst_mac $mac"
	pg "$d" "dst 10.200.0.1"
	pg "$d" "src_min 10.0.0.1"
	pg "$d" "src_max 10.255.255.254"
	pg "$d" "flag IPSRC_RND"
	pg "$d" "udp_dst_min 1"
	pg "$d" "udp_dst_max 1024"
	pg "$d" "flag UDPDST_RND"
	# IPv6: random destinations (pktgen randomises no IPv6 source)
	if [ -e /proc/net/pktgen/kpktgend_1 ]; then
		d=$DEV@1
		pg kpktgend_1 "add_device $d"
		pg "$d" "xmit_mode netif_receive"
		pg "$d" "count 0"
		pg "$d" "pkt_size 80"
		pg "$d" "ratep 4000"
		pg "$d" "dst_mac $mac"
		pg "$d" "src6 fd00:200::2"
		pg "$d" "dst6_min fd00:200::"
		pg "$d" "dst6_max fd00:200::ffff:ffff"
	fi
}

# The device goes before each measurement, and with it what the stack
# still holds of the flood (skbs queued on neighbours that never resolve,
# ICMP errors); it is set up again for the run.
flood_teardown() {
	pg kpktgend_0 rem_device_all 2> /dev/null
	pg kpktgend_1 rem_device_all 2> /dev/null
	ip link del "$DEV" 2> /dev/null
	true
}

flood_start() { echo start > /proc/net/pktgen/pgctrl & FLOOD=$!; }
flood_stop() {
	echo stop > /proc/net/pktgen/pgctrl 2> /dev/null
	[ -n "${FLOOD:-}" ] && wait "$FLOOD" 2> /dev/null
	FLOOD=
}
flood_sent() {
	awk '/pkts-sofar:/ { n += $2 } END { print n + 0 }' /proc/net/pktgen/"$DEV"@* 2> /dev/null
}

# ---- rulesets ----

limits() {
	local fam=$1 o=""
	case $((RANDOM % 4)) in
	0) o="--ratewin-window $((1 + $((RANDOM % 40))))/$((1 + $((RANDOM % 5))))s" ;;
	1) o="--ratewin-rate $((1 + $((RANDOM % 2000))))/second --ratewin-burst $((1 + $((RANDOM % 200))))" ;;
	2) o="--ratewin-window $((33 + $((RANDOM % 5000))))/$((100 + $((RANDOM % 3000))))ms --ratewin-rate $((1 + $((RANDOM % 100))))/minute" ;;
	*) o="--ratewin-rate $((1 + $((RANDOM % 50))))kb/s --ratewin-window $((1 + $((RANDOM % 8))))/1s" ;;
	esac
	[ "$((RANDOM % 4))" = 0 ] && case $o in *window*) o+=" --ratewin-count-all" ;; esac
	[ "$((RANDOM % 5))" = 0 ] && o+=" --ratewin-ban $((1 + $((RANDOM % 3))))s"
	[ "$((RANDOM % 4))" = 0 ] && o+=" --ratewin-htable-max $((10 + $((RANDOM % 3000))))"
	[ "$((RANDOM % 3))" = 0 ] && o+=" --ratewin-htable-expire $((50 + $((RANDOM % 2000)))) --ratewin-htable-gcinterval $((10 + $((RANDOM % 500))))"
	[ "$((RANDOM % 5))" = 0 ] && o+=" --ratewin-full under"
	[ "$((RANDOM % 6))" = 0 ] && o+=" --ratewin-upto"
	case $((RANDOM % 6)) in
	0) o+=" --ratewin-mode srcip,dstport" ;;
	1) o+=" --ratewin-mode dstip" ;;
	2) o+=" --ratewin-mode srcip,dstip,srcport,dstport" ;;
	3) if [ "$fam" = 4 ]; then o+=" --ratewin-srcmask $((8 + $((RANDOM % 25))))";
	   else o+=" --ratewin-srcmask $((16 + $((RANDOM % 113))))"; fi ;;
	esac
	echo "$o"
}

# ruleset FAMILY: raw PREROUTING rules on the flood, filter INPUT rules
# with conn-above, on the same table names.
ruleset() {
	local fam=$1 n i
	echo "*raw"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	n=$((1 + $((RANDOM % 4))))
	for ((i = 0; i < n; i++)); do
		echo "-A PREROUTING -i $DEV -m ratewin --ratewin-name ${NAMES[$((RANDOM % 4))]} $(limits "$fam")"
	done
	echo "COMMIT"
	echo "*filter"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	if [ "$((RANDOM % 2))" = 0 ]; then
		echo "-A INPUT -i $DEV -m ratewin --ratewin-name ${NAMES[$((RANDOM % 4))]} --ratewin-conn-above $((1 + RANDOM % 50)) --ratewin-mode srcip"
	fi
	echo "-A INPUT -i $DEV -m ratewin --ratewin-name ${NAMES[$((RANDOM % 4))]} $(limits "$fam") -j DROP"
	echo "COMMIT"
}

# ---- the loops: each runs until $W/stop exists, counts in $W/<name>.* ----

running() { [ ! -e "$W/stop" ]; }
# Counters live in the loop's shell; each loop writes them out at its end.
declare -A C=()
count() { C[$1]=$(( ${C[$1]:-0} + 1 )); }
save_counts() { local k; for k in "${!C[@]}"; do echo "${C[$k]}" > "$W/$k"; done; }

# swapper legacy|nft: one backend, IPv4 and IPv6 in turn (two swappers
# run, one per backend, so that a slow restore does not hold up the other)
swapper() {
	local cmds=("iptables-$1-restore" "ip6tables-$1-restore") c fam f
	while running; do
		c=${cmds[$((RANDOM % 2))]}
		case $c in ip6*) fam=6 ;; *) fam=4 ;; esac
		f=$W/rules.$BASHPID
		ruleset "$fam" > "$f"
		if "$c" -w < "$f" 2> "$f.err"; then
			count "swap.ok.$1"
		else
			count "swap.fail.$1"
			cp "$f" "$W/swap.fail.rules"
			cat "$f.err" >> "$W/swap.err"
		fi
		sleep 0.1
	done
	save_counts
}

reader() {
	while running; do
		cat "$D"/* > /dev/null 2>&1
		count read
	done
	save_counts
}

writer() {
	local t cmds
	while running; do
		t=$D/${NAMES[$((RANDOM % 4))]}
		[ -e "$t" ] || { sleep 0.05; continue; }
		cmds=("/" "+10.$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 256))" "-10.$((RANDOM % 256)).0.1"
		      "+src=10.1.$((RANDOM % 256)).1 dport=$((RANDOM % 1024))" "+fd00:200::$((RANDOM % 9999))"
		      "-dst=10.200.0.1" "garbage $((RANDOM % 100))" "+300.1.1.1" "")
		{ printf '%s' "${cmds[$((RANDOM % ${#cmds[@]}))]}" > "$t"; } 2> /dev/null
		count write
	done
	save_counts
}

nschurn() {
	local i=0 ns
	while running; do
		ns=xtrwst$$-$i
		i=$((i + 1))
		ip netns add "$ns" || { count ns.fail; sleep 0.5; continue; }
		ip -n "$ns" link set lo up
		ip netns exec "$ns" iptables-legacy -w -A INPUT -m ratewin \
			--ratewin-name n1 --ratewin-window 3/1s -j DROP
		ip netns exec "$ns" iptables-nft -w -A INPUT -m ratewin \
			--ratewin-name n1 --ratewin-rate 10/second --ratewin-conn-above 5
		ip netns exec "$ns" ip6tables-nft -w -A INPUT -m ratewin \
			--ratewin-name n2 --ratewin-window 2/1s --ratewin-mode srcip,dstport
		ip netns exec "$ns" ping -q -c 3 -i 0.2 -W 1 127.0.0.1 > /dev/null 2>&1
		ip netns exec "$ns" bash -c 'echo x > /dev/udp/127.0.0.1/9' 2> /dev/null
		ip netns exec "$ns" bash -c "echo +127.0.0.9 > $D/n1; cat $D/n1" > /dev/null 2>&1
		# a reader holding the file open while the namespace goes
		ip netns exec "$ns" bash -c "exec 3< $D/n1; sleep 0.3; cat <&3" > /dev/null 2>&1 &
		ip netns del "$ns"
		count ns
		sleep 0.1
	done
	save_counts
	wait
}

rmmodder() {
	while running; do
		if rmmod xt_ratewin 2> /dev/null; then
			count rmmod.succeeded
			insmod "$XTRW_KO" 2> /dev/null
		else
			count rmmod.refused
		fi
		sleep 0.5
	done
	save_counts
}

get() { cat "$W/$1" 2> /dev/null || echo 0; }

run_all() {
	local secs=$1 pids=() p
	rm -f "$W/stop"
	flood_start
	swapper legacy & pids+=($!)
	swapper nft & pids+=($!)
	reader & pids+=($!)
	writer & pids+=($!)
	nschurn & pids+=($!)
	rmmodder & pids+=($!)
	sleep "$secs"
	touch "$W/stop"
	# the flood first: the loops finish their round sooner without it
	flood_stop
	for p in "${pids[@]}"; do wait "$p"; done
}

clear_rules() {
	local c
	for c in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
		"$c" -w -t raw -F 2> /dev/null
		"$c" -w -t filter -F 2> /dev/null
	done
	iptables-nft -w -t raw -F > /dev/null 2>&1
	nft flush ruleset 2> /dev/null
	conntrack -F > /dev/null 2>&1
	ip -all netns delete 2> /dev/null
}

stop_all() {
	touch "$W/stop" 2> /dev/null
	flood_stop
	pg pgctrl reset 2> /dev/null
	clear_rules
	iptables-legacy -w -t mangle -F 2> /dev/null
	ip link del "$DEV" 2> /dev/null
}
cleanup_add rm -rf "$W"
cleanup_add stop_all

check "dummy device and pktgen set up" flood_setup || ksft_exit_fail "no flood"
# The pin: this legacy rule holds the module for the whole run.
# (In mangle OUTPUT to a port nothing uses: its table stays empty, out of
# the slab figures.)
check "a legacy rule pins the module" iptables-legacy -w -t mangle -A OUTPUT \
	-o lo -p udp --dport 7 -m ratewin --ratewin-name pin --ratewin-window 1000/1s

# ---- warm-up: every path once, then the baseline ----
kmsg "warm-up ${WARMUP}s"
run_all "$WARMUP"
clear_rules
flood_teardown
slab_state "$W/slab.before"
own_objects > "$W/own.before"
read -r slab0 sunr0 < <(sed -n 's/^# meminfo //p' "$W/slab.before")
info "baseline after warm-up: Slab ${slab0} kB, SUnreclaim ${sunr0} kB, $(ours < "$W/slab.before" | awk '{ n += $2 } END { print n + 0 }') objects in the shared caches, $(sed -n 's/^# //p' "$W/slab.before" | grep -v meminfo | tr '\n' ';')"
own0=$(own_total "$W/own.before")
exp0=$(expected_own)
info "the module's own objects at the baseline, per site: $(own_sites "$W/own.before" | tr "\n" " ")"
# Without the traces (no slub_debug=U in this boot) there is nothing to
# count, and the check below would pass on nothing.
if [ -d "$SLABDBG/kmalloc-64" ] && [ "$own0" -gt 0 ] && [ "$own0" = "$exp0" ]; then
	ok "baseline: the module's own objects are the pin's, $own0 (a table and its configuration)"
elif [ ! -d "$SLABDBG/kmalloc-64" ]; then
	fail "baseline: no allocation traces in $SLABDBG (the boot needs slub_debug=U: $(cat /proc/cmdline))"
else
	fail "baseline: $own0 objects of the module's own, the pin accounts for $exp0"
fi
rm -f "$W"/swap.* "$W"/read "$W"/write "$W"/ns "$W"/ns.fail "$W"/rmmod.*
flood_setup || ksft_exit_fail "the dummy device and pktgen again"

# ---- the run ----
kmsg "stress ${SECS}s"
info "stress for ${SECS} s"
sent0=$(flood_sent)
t0=$(date +%s)
run_all "$SECS"
el=$(( $(date +%s) - t0 ))
sent=$(flood_sent)

swaps=$(( $(get swap.ok.legacy) + $(get swap.ok.nft) ))
refused=$(( $(get swap.fail.legacy) + $(get swap.fail.nft) ))
if [ "$refused" = 0 ] && [ "$(get swap.ok.legacy)" -gt 0 ] && [ "$(get swap.ok.nft)" -gt 0 ]; then
	ok "ruleset swaps: $swaps in ${el} s ($(get swap.ok.legacy) legacy, $(get swap.ok.nft) nft; $(awk -v n="$swaps" -v t="$el" 'BEGIN { printf "%.1f", n / t }')/s), none refused"
else
	fail "ruleset swaps: $(get swap.ok.legacy) legacy and $(get swap.ok.nft) nft done, $refused refused"
	sed 's/^/#   /' "$W/swap.err" 2> /dev/null | head -n 10
	sed 's/^/#   rules: /' "$W/swap.fail.rules" 2> /dev/null
fi
if [ "$sent" -gt 0 ]; then
	ok "flood: $sent packets from pktgen"
else
	fail "flood: pktgen sent nothing ($sent0 -> $sent)"
fi
n=$(get read)
[ "$n" -gt 0 ] && ok "/proc reads: $n passes over every file" || fail "/proc reads: none"
n=$(get write)
[ "$n" -gt 0 ] && ok "/proc writes: $n (flush, +KEY, -KEY, malformed)" || fail "/proc writes: none"
n=$(get ns)
[ "$n" -gt 0 ] && [ "$(get ns.fail)" = 0 ] && ok "namespaces created and destroyed: $n" ||
	fail "namespaces: $n, $(get ns.fail) failed to create"
if [ "$(get rmmod.succeeded)" = 0 ] && [ "$(get rmmod.refused)" -gt 0 ]; then
	ok "rmmod refused $(get rmmod.refused) times while in use"
else
	fail "rmmod succeeded $(get rmmod.succeeded) times while rules used the module"
fi
check "module still loaded" module_loaded xt_ratewin

# ---- after: every rule gone, slab back ----
clear_rules
# The module's own count: no table but the pin, and it holds no entry.
check "no ratewin table left but the pin" bash -c "[ \"\$(ls $D)\" = pin ]"
pin_entries=$(sed -n 's/^# table pin: entries \([0-9]*\)\/.*/\1/p' "$D/pin")
[ "$pin_entries" = 0 ] && ok "the pin's table holds no entry" ||
	fail "the pin's table holds '${pin_entries}' entries"
flood_teardown
slab_state "$W/slab.after"
# The module's own objects: back to the baseline, site by site, and what
# the pin accounts for. Entries and configurations are freed from RCU
# callbacks: measured again (with the settling) until they are, for up to
# OWN_WAIT seconds; a leak never gets there.
OWN_WAIT=${STRESS_OWN_WAIT:-20}
own_settled() {
	own_objects > "$W/own.after"
	[ "$(own_sites "$W/own.after")" = "$(own_sites "$W/own.before")" ] &&
		[ "$(own_total "$W/own.after")" = "$(expected_own)" ]
}
end=$(($(date +%s) + OWN_WAIT))
polls=1
until own_settled || [ "$(date +%s)" -ge "$end" ]; do
	grace_periods
	polls=$((polls + 1))
done
own1=$(own_total "$W/own.after")
exp1=$(expected_own)
leaked=$((own1 - own0))
info "the module's own objects after the run, per site: $(own_sites "$W/own.after" | tr "\n" " ")"
if [ "$(own_sites "$W/own.after")" = "$(own_sites "$W/own.before")" ] && [ "$own1" = "$exp1" ]; then
	ok "the module's own objects back to the baseline: $own0 -> $own1, what the pin accounts for ($exp1; $polls measurements)"
else
	fail "the module's own objects: $own0 -> $own1 ($((leaked >= 0 ? leaked : -leaked)) $([ $leaked -ge 0 ] && echo more || echo fewer)), the tables left account for $exp1; after ${OWN_WAIT} s"
	diff <(own_sites "$W/own.before") <(own_sites "$W/own.after") | sed -n 's/^\([<>]\)/#   \1/p'
fi
echo "own_before=$own0 own_after=$own1 own_expected=$exp1 leaked=$leaked polls=$polls" |
	sed 's/^/# leak-figures: /'

# The shared caches, for information: other subsystems move them.
slab_diff "$W/slab.before" "$W/slab.after" > "$W/slab.diff"
info "shared caches that grew most (not judged; cache before after objects bytes):"
awk '$4 > 0' "$W/slab.diff" | head -n 8 | awk '{ print "#   " $1, $2, $3, "+" $4, "+" $5 }'
read -r slab1 sunr1 < <(sed -n 's/^# meminfo //p' "$W/slab.after")
info "after the run: Slab ${slab1} kB, SUnreclaim ${sunr1} kB, $(sed -n 's/^# //p' "$W/slab.after" | grep -v meminfo | tr '\n' ';')"
kb0=$(ours < "$W/slab.before" | awk '{ n += $2 * $3 } END { printf "%d", n / 1024 }')
kb1=$(ours < "$W/slab.after" | awk '{ n += $2 * $3 } END { printf "%d", n / 1024 }')
info "shared kmalloc-* and nf_conncount caches: ${kb0} -> ${kb1} kB (SUnreclaim ${sunr0} -> ${sunr1} kB)"

iptables-legacy -w -t mangle -F
check "rmmod xt_ratewin once the rules are gone" wait_for 60 rmmod xt_ratewin
echo "slab_before=$slab0 slab_after=$slab1 sunreclaim_before=$sunr0 sunreclaim_after=$sunr1 shared_caches_kb_before=$kb0 shared_caches_kb_after=$kb1 own_objects_before=$own0 own_objects_after=$own1 seconds=$el swaps=$swaps packets=$sent" |
	sed 's/^/# stress-figures: /'
ksft_exit

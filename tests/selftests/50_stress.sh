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
# Then every rule goes and slab usage (/proc/meminfo Slab and SUnreclaim,
# kmalloc-* caches) must be back at its level before the run, measured
# the same way after a warm-up: caches dropped, RCU callbacks flushed.
# Tolerance: SUnreclaim within max(1 MiB, 5%), kmalloc objects within
# max(2000, 5%) (other subsystems' caches move a little). Finally rmmod
# must succeed. The kernel log must stay clean (the harness checks).
# Kernel command line xtrw_stress_seconds=N overrides the duration.
# vm-timeout: 360
# vm-boot: heavy
. "$(dirname "$0")/lib.sh"

require_root
have_plugin || ksft_exit_skip "plugin not built"
checktool "iptables-legacy-restore --version" "run without iptables-legacy-restore"
checktool "iptables-nft-restore --version" "run without iptables-nft-restore"

cmdline_arg() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
SECS=$(cmdline_arg xtrw_stress_seconds)
SECS=${SECS:-${STRESS_SECONDS:-60}}
WARMUP=${STRESS_WARMUP:-8}
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

# ---- measuring ----

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# active objects of the kmalloc caches, summed
kmalloc_objs() {
	awk '$1 ~ /^kmalloc-[0-9]+k?$/ { n += $2 } END { print n + 0 }' /proc/slabinfo
}
kmalloc_detail() {
	awk '$1 ~ /^kmalloc-(32|64|96|128|192|256|512)$/ { printf "%s=%s ", $1, $2 }' /proc/slabinfo
}

# Let freed memory settle: deferred nft destruction, RCU callbacks, cache
# reclaim. An rcu_barrier() is not reachable from userspace; a few grace
# periods (synchronize_rcu from each membarrier call) and time are.
settle() {
	local i
	for i in 1 2 3; do
		sleep 2
		sync
		echo 3 > /proc/sys/vm/drop_caches
		# membarrier(MEMBARRIER_CMD_GLOBAL) is a synchronize_rcu()
		python3 -c 'import os,ctypes
l = ctypes.CDLL(None, use_errno=True)
for _ in range(5): l.syscall(324, 1, 0, 0)' 2> /dev/null
	done
}

snapshot() {
	settle
	echo "$(meminfo Slab) $(meminfo SUnreclaim) $(kmalloc_objs)"
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
	pg "$d" "ratep 20000"
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
		pg "$d" "ratep 10000"
		pg "$d" "dst_mac $mac"
		pg "$d" "src6 fd00:200::2"
		pg "$d" "dst6_min fd00:200::"
		pg "$d" "dst6_max fd00:200::ffff:ffff"
	fi
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
	for p in "${pids[@]}"; do wait "$p"; done
	flood_stop
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
read -r slab0 sunr0 kobj0 < <(snapshot)
info "baseline after warm-up: Slab ${slab0} kB, SUnreclaim ${sunr0} kB, kmalloc objects ${kobj0}"
info "  $(kmalloc_detail)"
rm -f "$W"/swap.* "$W"/read "$W"/write "$W"/ns "$W"/ns.fail "$W"/rmmod.*

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
read -r slab1 sunr1 kobj1 < <(snapshot)
info "after the run: Slab ${slab1} kB, SUnreclaim ${sunr1} kB, kmalloc objects ${kobj1}"
info "  $(kmalloc_detail)"
tol_kb=$(( sunr0 / 20 > 1024 ? sunr0 / 20 : 1024 ))
tol_obj=$(( kobj0 / 20 > 2000 ? kobj0 / 20 : 2000 ))
if [ $((sunr1 - sunr0)) -le "$tol_kb" ]; then
	ok "SUnreclaim back to its level: ${sunr0} -> ${sunr1} kB (tolerance +${tol_kb} kB); Slab ${slab0} -> ${slab1} kB"
else
	fail "SUnreclaim grew: ${sunr0} -> ${sunr1} kB (tolerance +${tol_kb} kB); Slab ${slab0} -> ${slab1} kB"
fi
if [ $((kobj1 - kobj0)) -le "$tol_obj" ]; then
	ok "kmalloc objects back to their level: ${kobj0} -> ${kobj1} (tolerance +${tol_obj})"
else
	fail "kmalloc objects grew: ${kobj0} -> ${kobj1} (tolerance +${tol_obj})"
fi
check "no ratewin table left but the pin" bash -c "[ \"\$(ls $D)\" = pin ]"

iptables-legacy -w -t mangle -F
check "rmmod xt_ratewin once the rules are gone" wait_for 30 rmmod xt_ratewin
read -r slab2 sunr2 kobj2 < <(snapshot)
info "after rmmod: Slab ${slab2} kB, SUnreclaim ${sunr2} kB, kmalloc objects ${kobj2}"
echo "slab_before=$slab0 slab_after=$slab1 sunreclaim_before=$sunr0 sunreclaim_after=$sunr1 kmalloc_before=$kobj0 kmalloc_after=$kobj1 seconds=$el swaps=$swaps packets=$sent" |
	sed 's/^/# stress-figures: /'
ksft_exit

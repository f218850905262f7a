#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/guest.sh: the part of `make bench` that runs inside the VM
# (tests/bench/run.sh boots it through tests/vm/run.sh). It only measures
# and writes raw numbers; tests/bench/analyze.py turns them into the table,
# the JSON and the plot on the host. Nothing here passes or fails on a
# figure: the TAP points below only say whether each stage could run.
#
# Load: pktgen in xmit_mode netif_receive (burst 1, so every packet is a
# fresh skb that goes through the whole receive path) into a dummy device
# in a test namespace; packets go to the device's own address, so they
# traverse PREROUTING and INPUT and end in UDP (no socket, no reply route).
#
# Each contender's rules sit in a chain of their own, entered by one jump
# from the base chain. Switching contenders only replaces that jump (one
# nft transaction), so no other rule is touched and every table keeps its
# state across rounds, connlimit's per-rule trees included. The jump is
# part of every contender's cost and of the floor.
#
# Amplification: one match costs 1-2 us against a receive path of 7-10 us
# under TCG, about the size of the noise. So each contender's chain holds
# BENCH_K identical non-terminating rules (the same K for every contender,
# the floor included), all naming one table where the match has named
# tables: every packet is looked up K times (the first lookup of a packet
# finds its entry cold, the others warm) and the added cost is K times the
# cost of one rule. connlimit keeps a tree per rule: it gets K trees.
# Tables are filled through a chain holding one rule (BENCH_FILL_THREADS
# pktgen threads, each over its part of the sources); connlimit's K trees
# only through its K rules.
#
# Phase A (netns without conntrack, rules in raw PREROUTING): none, floor,
# hashlimit, recent, nft, rw-rate, rw-window, at every BENCH_SOURCES.
# Three more can be added to BENCH_A to show what a rule that matches
# costs by itself (nft then runs the rule's counter): floor-hit (the floor
# with a mark every packet has), recent-miss (recent ! --update) and
# rw-window-miss (the window with --ratewin-upto): the same lookups and
# decisions as recent and rw-window, but the rule does not match.
# Phase B (conntrack on, rules in mangle PREROUTING, after conntrack):
# none-ct, floor-ct, hashlimit-ct, connlimit, rw-conn, rw-all, at
# BENCH_SOURCES_B; connlimit only up to BENCH_CONNLIMIT_MAX sources (K
# trees of 1M connections each would not fit the VM). Each phase of each
# source count has its own namespace, made afresh.
#
# vm-timeout: 2400

set -u
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SELF=$(readlink -f "$0")

# ---- configuration ------------------------------------------------------
# tests/bench/run.sh passes a file of BENCH_* assignments with
# xtrw_bench=<path> on the kernel command line; every value has a default.
if [ -z "${BENCH_CONFIG:-}" ]; then
	BENCH_CONFIG=$(sed -n 's/.*xtrw_bench=\([^ ]*\).*/\1/p' /proc/cmdline)
fi
# shellcheck source=/dev/null
[ -n "$BENCH_CONFIG" ] && [ -r "$BENCH_CONFIG" ] && . "$BENCH_CONFIG"
: "${BENCH_OUT:=/run/xtrw/bench}"
: "${BENCH_SOURCES:=1 1024 65536 1048576}"
: "${BENCH_SOURCES_B:=1 65536 1048576}"	# phase B: conntrack on
: "${BENCH_CONNLIMIT_MAX:=65536}"	# connlimit: K trees of this many
: "${BENCH_K:=10}"		# identical rules per contender chain
: "${BENCH_FILL_THREADS:=2}"	# pktgen threads filling a table
: "${BENCH_ROUNDS:=7}"
: "${BENCH_SECS:=0.4}"		# one measurement
: "${BENCH_SETTLE:=0.1}"	# after a switch, before measuring
: "${BENCH_PHASES:=A B}"
: "${BENCH_A:=none floor hashlimit recent nft rw-rate rw-window}"
: "${BENCH_B:=none-ct floor-ct hashlimit-ct connlimit rw-conn rw-all}"
: "${BENCH_GC:=1}"
: "${BENCH_GC_CONTENDERS:=hashlimit rw-rate}"
: "${BENCH_GC_N:=1048576}"
: "${BENCH_GC_EXPIRE_MS:=}"		# default: from this run's fill times
: "${BENCH_GC_SECS:=8}"			# after the last entry expired
: "${BENCH_SCALE:=1}"
: "${BENCH_SCALE_CONTENDERS:=none hashlimit rw-rate rw-window}"
: "${BENCH_SCALE_SOURCES:=65536}"	# per thread
: "${BENCH_SCALE_ROUNDS:=3}"
: "${BENCH_SCALE_SECS:=1}"		# one measurement of the scaling stage
: "${BENCH_PERF:=1}"
: "${BENCH_PERF_AT:=1 1048576}"	# source counts profiled
: "${BENCH_MEM_MIN:=65536}"		# memory snapshots from this many sources
: "${BENCH_PERF_A:=hashlimit recent rw-rate rw-window}"
: "${BENCH_PERF_B:=connlimit rw-conn rw-all}"
: "${BENCH_PERF_SECS:=2}"
: "${BENCH_BURST:=1000000}"
: "${BENCH_RATE:=1000000}"		# per second: above any pps here
: "${BENCH_MAX:=1100000}"		# table max entries (sized for 1M)
: "${BENCH_SIZE:=1048576}"		# hash buckets (hint)
XTRW_KO=${XTRW_KO:-${XTRW_ARTIFACTS:-/run/xtrw/artifacts}/xt_ratewin.ko}
: "${BENCH_WARMUP_ROUNDS:=2}"	# the warm-up stage (0: none); see main
# the warm-up stage itself (set by main): its numbers apart, no profiles
if [ -n "${XTRW_WARMUP:-}" ]; then
	BENCH_OUT=$BENCH_OUT/warmup
	BENCH_ROUNDS=$BENCH_WARMUP_ROUNDS
	BENCH_PERF=0
fi

mkdir -p "$BENCH_OUT" || exit 1
LOG=$BENCH_OUT/log.txt

log() { echo "$(cut -d' ' -f1 /proc/uptime) $*" >> "$LOG"; }
tap_n=0
tap_fail=0
tap() { # ok|not ok, description
	tap_n=$((tap_n + 1))
	[ "$1" = ok ] || tap_fail=$((tap_fail + 1))
	echo "$1 $tap_n - $2"
	log "$1 - $2"
}

IPT=iptables-nft
IPTR=iptables-nft-restore
DEV=dum0
DADDR=192.168.77.1
PG=/proc/net/pktgen
# Sources: N distinct addresses from 10.0.0.0 (1M: 10.0.0.0-10.15.255.255);
# the scaling test's second thread uses 10.128.0.0 on, the GC test's
# traffic 10.200.0.1, outside every range.
SRC_BASE=$((10 << 24))
SRC_BASE2=$(((10 << 24) | (128 << 16)))

ip_of() { # integer -> dotted quad
	echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"
}

# ---- contenders -----------------------------------------------------------
# Every rule lets its packets through: huge rates and conn limits never go
# over; the windows record every packet (--ratewin-count-all and recent
# --update both do) and match once a source has 8 events in a second, but
# the rules have no target, so the packet goes on either way.
HL_TUNE="--hashlimit-htable-size $BENCH_SIZE --hashlimit-htable-max $BENCH_MAX"
HL_TUNE+=" --hashlimit-htable-expire 3600000 --hashlimit-htable-gcinterval 3600000"
RW_TUNE="--ratewin-htable-size $BENCH_SIZE --ratewin-htable-max $BENCH_MAX"
RW_TUNE+=" --ratewin-htable-expire 3600000 --ratewin-htable-gcinterval 3600000"
RW_RATE="--ratewin-rate $BENCH_RATE/s --ratewin-burst $BENCH_BURST"
RW_WIN="--ratewin-window 8/1s --ratewin-count-all"
RW_CONN="--ratewin-conn-above 1000000"

rule_of() { # contender -> the rule in its chain (iptables arguments)
	case $1 in
	floor|floor-ct) echo "-m mark --mark 0x1/0x1" ;;
	floor-hit) echo "-m mark --mark 0x0/0x1" ;;
	hashlimit|hashlimit-ct)
		echo "-m hashlimit --hashlimit-name hl --hashlimit-mode srcip" \
			"--hashlimit-above $BENCH_RATE/sec --hashlimit-burst $BENCH_BURST $HL_TUNE" ;;
	recent) echo "-m recent --name rc --rsource --update" ;;
	recent-miss) echo "-m recent --name rcm --rsource ! --update" ;;
	connlimit) echo "-m connlimit --connlimit-above 1000000 --connlimit-mask 32 --connlimit-saddr" ;;
	rw-rate) echo "-m ratewin --ratewin-name rwr $RW_RATE $RW_TUNE" ;;
	rw-window) echo "-m ratewin --ratewin-name rww $RW_WIN $RW_TUNE" ;;
	rw-window-miss) echo "-m ratewin --ratewin-name rwwm $RW_WIN --ratewin-upto $RW_TUNE" ;;
	rw-conn) echo "-m ratewin --ratewin-name rwc $RW_CONN $RW_TUNE" ;;
	rw-all) echo "-m ratewin --ratewin-name rwa $RW_RATE $RW_WIN $RW_CONN $RW_TUNE" ;;
	esac
}

# The rule that fills the contender's table in the prefill sweep (recent
# --update only refreshes entries that exist; --set makes them).
prefill_rule_of() {
	case $1 in
	recent) echo "-m recent --name rc --rsource --set" ;;
	recent-miss) echo "-m recent --name rcm --rsource --set" ;;
	*) rule_of "$1" ;;
	esac
}

# Contenders whose state is per rule, not in a named table: filled through
# their K rules.
per_rule_state() {
	case $1 in connlimit) return 0 ;; esac
	return 1
}

kind_of() {
	case $1 in
	none|none-ct) echo none ;;
	nft) echo nft ;;
	*) echo xt ;;
	esac
}

stateful() {
	case $1 in none|none-ct|floor|floor-ct|floor-hit) return 1 ;; esac
	return 0
}

chain_of() { echo "C_${1//-/_}"; }
# the chain that fills the contender's table: one rule
pchain_of() {
	if per_rule_state "$1"; then chain_of "$1"; else echo "P_${1//-/_}"; fi
}

# ---- pktgen ---------------------------------------------------------------
pgw() { # file command
	if ! echo "$2" > "$PG/$1" 2> /dev/null; then
		log "pktgen: '$2' > $1 failed"
		return 1
	fi
}

PG_DEVS=""
PG_PID=""

# pg_setup "THREAD:MIN:COUNT[:seq]"...: one device per entry, on pktgen
# thread THREAD, sources MIN..MIN+COUNT-1 (random, or in sequence with
# :seq), PKTS packets each (0: until stopped).
pg_setup() {
	local pkts=$1 spec th min n mode d mac
	shift
	mac=$(cat /sys/class/net/$DEV/address)
	for th in 0 1; do
		[ -e "$PG/kpktgend_$th" ] && pgw "kpktgend_$th" rem_device_all
	done
	PG_DEVS=""
	for spec in "$@"; do
		IFS=: read -r th min n mode <<< "$spec"
		d=$DEV@$th
		pgw "kpktgend_$th" "add_device $d" || return 1
		PG_DEVS+=" $d"
		pgw "$d" "count $pkts"
		pgw "$d" "pkt_size 60"
		pgw "$d" "delay 0"
		pgw "$d" "flag NO_TIMESTAMP"
		pgw "$d" "dst_mac $mac"
		pgw "$d" "dst_min $DADDR"
		pgw "$d" "dst_max $DADDR"
		pgw "$d" "udp_src_min 1024"
		pgw "$d" "udp_src_max 1024"
		pgw "$d" "udp_dst_min 9"
		pgw "$d" "udp_dst_max 9"
		pgw "$d" "src_min $(ip_of "$min")"
		pgw "$d" "src_max $(ip_of $((min + n - 1)))"
		if [ "$mode" = seq ]; then
			pgw "$d" "flag !IPSRC_RND"
		else
			pgw "$d" "flag IPSRC_RND"
		fi
		pgw "$d" "xmit_mode netif_receive"
		pgw "$d" "burst 1"
		grep -q "Result: OK" "$PG/$d" || log "pktgen $d: $(grep Result: "$PG/$d")"
	done
}

pg_start() {
	echo start > "$PG/pgctrl" 2> /dev/null &
	PG_PID=$!
}

pg_stop() {
	[ -n "$PG_PID" ] || return 0
	echo stop > "$PG/pgctrl" 2> /dev/null
	wait "$PG_PID" 2> /dev/null
	PG_PID=""
}

# pg_run: start and wait until every device has sent its count.
pg_run() {
	echo start > "$PG/pgctrl" 2> /dev/null
}

# pg_fill BASE N: one sequential sweep over sources BASE..BASE+N-1, split
# over BENCH_FILL_THREADS pktgen threads (both vCPUs).
pg_fill() {
	local base=$1 n=$2 h
	if [ "$BENCH_FILL_THREADS" -ge 2 ] && [ "$n" -ge 2 ]; then
		h=$((n / 2))
		pg_setup "$h" "0:$base:$h:seq" "1:$((base + h)):$h:seq" || return 1
		[ $((n - 2 * h)) = 0 ] || log "pg_fill: odd $n, one source left out"
	else
		pg_setup "$n" "0:$base:$n:seq" || return 1
	fi
	pg_run
}

# Sum of pkts-sofar over the devices, with timestamps just before and after
# reading them (bash builtins only: no process start in between).
read_sofar() {
	local d l s=0
	TA=$EPOCHREALTIME
	for d in $PG_DEVS; do
		while IFS= read -r l; do
			case $l in
			*pkts-sofar:*)
				l=${l#*pkts-sofar: }
				s=$((s + ${l%% *}))
				break
				;;
			esac
		done < "$PG/$d"
	done
	TB=$EPOCHREALTIME
	SOFAR=$s
}

# measure SECS: sets M="t0a t0b n0 t1a t1b n1"
measure() {
	local a
	read_sofar
	a="$TA $TB $SOFAR"
	sleep "$1"
	read_sofar
	M="$a $TA $TB $SOFAR"
}

# ---- the namespace: device, tables, chains --------------------------------
ns_dev() {
	ip link set lo up
	ip link add "$DEV" type dummy || return 1
	ip addr add "$DADDR/24" dev "$DEV"
	ip link set "$DEV" up
}

# mk_chains TABLE LIST: the base chain (kept empty when no contender is
# active, so every contender and the "none" baseline see the same hooks),
# a chain per contender and a fill chain per stateful one, all empty.
mk_chains() {
	local tbl=$1 list=$2 c
	XT_TABLE=$tbl
	{
		echo "*$tbl"
		echo ":PREROUTING ACCEPT [0:0]"
		for c in $list; do
			[ "$(kind_of "$c")" = xt ] || continue
			echo ":$(chain_of "$c") - [0:0]"
			stateful "$c" && ! per_rule_state "$c" &&
				echo ":$(pchain_of "$c") - [0:0]"
		done
		echo COMMIT
	} | $IPTR
}

# ns_tables PHASE
NFT_TABLE=0
ns_tables() {
	local phase=$1 tbl list
	if [ "$phase" = A ]; then tbl=raw; list=$BENCH_A; else tbl=mangle; list=$BENCH_B; fi
	mk_chains "$tbl" "$list" || return 1
	if [ "$phase" = B ]; then
		# conntrack on in phase B whatever else is loaded
		echo -e "*$tbl\n:CT_ON - [0:0]\n-A CT_ON -m conntrack --ctstate INVALID\nCOMMIT" |
			$IPTR --noflush || return 1
	fi
	if [ "$phase" = A ]; then
		nft -f - <<-EOF || return 1
		table ip bench {
			# timeout only so that gc-interval can be set: the
			# set's GC worker would otherwise walk it every few
			# seconds under every contender's measurement
			set rl {
				type ipv4_addr
				size $BENCH_MAX
				flags dynamic,timeout
				timeout 1h
				gc-interval 1h
			}
			chain pre {
				type filter hook prerouting priority raw; policy accept;
			}
			chain C_nft {
			}
			chain P_nft {
			}
		}
		EOF
		NFT_TABLE=1
	fi
	if [ "$phase" = B ]; then
		sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3600
		sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=3600
	fi
}

# The contender's K rules, and the one rule of its fill chain. The floor's
# go in at once; stateful contenders' just before their fill sweep, so that
# the memory snapshots around the sweep see their table being made.
ns_fill_chain() { # contender
	local c=$1 r i
	case $(kind_of "$c") in
	xt)
		r=$(rule_of "$c")
		{
			echo "*$XT_TABLE"
			for ((i = 0; i < BENCH_K; i++)); do
				echo "-A $(chain_of "$c") $r"
			done
			if stateful "$c" && ! per_rule_state "$c"; then
				echo "-A $(pchain_of "$c") $(prefill_rule_of "$c")"
			fi
			echo COMMIT
		} | $IPTR --noflush
		;;
	nft)
		r="update @rl { ip saddr limit rate over $BENCH_RATE/second burst $BENCH_BURST packets }"
		{
			for ((i = 0; i < BENCH_K; i++)); do
				echo "add rule ip bench C_nft $r"
			done
			echo "add rule ip bench P_nft $r"
		} | nft -f -
		;;
	esac
}

# jump TO: make the base chain's only rule a jump to TO ("": none; a chain
# of the xt table; nft:CHAIN in table ip bench), in one nft transaction.
# (iptables-nft-restore would first fetch and parse every rule of the
# table: seconds per switch under emulation.)
JUMP=""
jump() {
	local to=$1 cmd
	[ "$to" = "$JUMP" ] && return 0
	cmd="flush chain ip $XT_TABLE PREROUTING"
	[ "$NFT_TABLE" = 1 ] && cmd+="; flush chain ip bench pre"
	case $to in
	"") ;;
	nft:*) cmd+="; add rule ip bench pre jump ${to#nft:}" ;;
	*) cmd+="; add rule ip $XT_TABLE PREROUTING jump $to" ;;
	esac
	if ! nft "$cmd"; then
		log "jump to '$to' failed"
		return 1
	fi
	JUMP=$to
}

# activate CONTENDER (none: no rule)
activate() {
	case $(kind_of "${1:-none}") in
	none) jump "" ;;
	nft) jump nft:C_nft ;;
	*) jump "$(chain_of "$1")" ;;
	esac
}

# activate_prefill CONTENDER: its fill chain
activate_prefill() {
	case $(kind_of "$1") in
	nft) jump nft:P_nft ;;
	*) jump "$(pchain_of "$1")" ;;
	esac
}

deactivate_all() {
	jump ""
}

# ---- memory snapshots -----------------------------------------------------
# slabinfo (name active_objs num_objs objsize objperslab pagesperslab
# num_slabs) plus the meminfo lines that hold kernel memory.
mem_snap() { # file
	{
		echo "# meminfo"
		grep -E '^(MemFree|MemAvailable|Slab|SReclaimable|SUnreclaim|VmallocUsed|Percpu|KernelStack|PageTables):' /proc/meminfo
		echo "# slabinfo"
		awk 'NR > 2 { print $1, $2, $3, $4, $5, $6, $15 }' /proc/slabinfo
	} > "$1"
}

# Let deferred frees (RCU, workqueues) settle before a snapshot.
quiesce() {
	sleep 0.5
	echo 1 > /proc/sys/vm/drop_caches 2> /dev/null
}

# ---- one phase of one source count, inside its namespace -----------------
# prefill: for every stateful contender, one sequential sweep over the N
# sources with only that contender active, between two memory snapshots.
# Then every round measures every contender once, in a rotating order.
do_phase() {
	local phase=$1 n=$2 list="" c r i k rot tag memdir
	for c in $([ "$phase" = A ] && echo "$BENCH_A" || echo "$BENCH_B"); do
		if [ "$c" = connlimit ] && [ "$n" -gt "$BENCH_CONNLIMIT_MAX" ]; then
			log "$phase-$n: connlimit left out (> BENCH_CONNLIMIT_MAX sources)"
			continue
		fi
		list+=" $c"
	done
	tag=$phase-$n
	memdir=$BENCH_OUT/mem
	mkdir -p "$memdir"
	ns_dev || { log "$tag: no device"; return 1; }
	ns_tables "$phase" || { log "$tag: tables failed"; return 1; }
	for c in $list; do
		case $c in floor|floor-ct) ns_fill_chain "$c" ;; esac
	done

	# prefill sweeps; memory snapshots only where per-entry figures mean
	# something (from BENCH_MEM_MIN sources on)
	local snap=0
	[ "$n" -ge "$BENCH_MEM_MIN" ] && snap=1
	if [ "$phase" = B ] && [ $snap = 1 ]; then
		# conntrack alone first: its entries are made here, not in a
		# contender's sweep
		quiesce
		mem_snap "$memdir/$tag-conntrack.before"
		local t0=$EPOCHREALTIME
		pg_fill "$SRC_BASE" "$n"
		echo "$phase $n conntrack $t0 $EPOCHREALTIME $n" >> "$BENCH_OUT/prefill.tsv"
		quiesce
		mem_snap "$memdir/$tag-conntrack.after"
		log "$tag: conntrack count $(sysctl -n net.netfilter.nf_conntrack_count 2> /dev/null)"
	fi
	for c in $list; do
		stateful "$c" || continue
		[ $snap = 1 ] && quiesce && mem_snap "$memdir/$tag-$c.before"
		ns_fill_chain "$c" || log "$tag: rules for $c failed"
		activate_prefill "$c" || log "$tag: activate $c failed"
		local t0=$EPOCHREALTIME
		pg_fill "$SRC_BASE" "$n"
		echo "$phase $n $c $t0 $EPOCHREALTIME $n" >> "$BENCH_OUT/prefill.tsv"
		deactivate_all
		[ $snap = 1 ] && quiesce && mem_snap "$memdir/$tag-$c.after"
	done
	[ "$phase" = B ] && log "$tag: conntrack count $(sysctl -n net.netfilter.nf_conntrack_count 2> /dev/null)"
	for c in /proc/net/xt_ratewin/*; do
		[ -f "$c" ] && log "$tag: $c: $(head -n 2 "$c" | tr '\n' ' ')"
	done

	# rounds: random sources over the same N. Each contender is measured
	# between two runs of the phase's no-rule baseline, which the
	# analysis takes its cost against; the order rotates by round.
	pg_setup 0 "0:$SRC_BASE:$n" || return 1
	pg_start
	sleep 1
	local base=none others=() seq
	[ "$phase" = B ] && base=none-ct
	for c in $list; do
		[ "$c" = "$base" ] || others+=("$c")
	done
	k=${#others[@]}
	[[ " $list " == *" $base "* ]] || base=""
	for ((r = 1; r <= BENCH_ROUNDS && k > 0; r++)); do
		rot=$(((r - 1) % k))
		seq=$base
		for ((i = 0; i < k; i++)); do
			seq+=" ${others[(rot + i) % k]} $base"
		done
		for c in $seq; do
			activate "$c" || log "$tag: activate $c failed"
			sleep "$BENCH_SETTLE"
			measure "$BENCH_SECS"
			echo "$phase $n $r $c $M" >> "$BENCH_OUT/tput.tsv"
		done
	done
	activate ""
	# what every rule matched (rate and conn contenders: nothing). Not
	# nft list: it would fetch the whole set, a million elements.
	{
		echo "# $tag"
		$IPT-save -c
	} > "$BENCH_OUT/rules-$tag.txt" 2>&1

	# profiles
	if [ "$BENCH_PERF" = 1 ] && [[ " $BENCH_PERF_AT " == *" $n "* ]]; then
		local plist
		if [ "$phase" = A ]; then plist=$BENCH_PERF_A; else plist=$BENCH_PERF_B; fi
		for c in $plist; do
			[[ " $list " == *" $c "* ]] || continue
			do_perf "$tag" "$c"
		done
		activate ""
	fi
	pg_stop
	log "$tag: done"
}

do_perf() { # tag contender
	local f=$BENCH_OUT/perf/$1-$2
	mkdir -p "$BENCH_OUT/perf"
	activate "$2" || return 1
	sleep "$BENCH_SETTLE"
	# CPU 0 only: pktgen's thread, where every packet is processed. The
	# report is made on the host (perf report is slow under emulation),
	# with this guest's kallsyms.
	perf record -q -e cpu-clock -C 0 -o "$f.data" -- sleep "$BENCH_PERF_SECS" \
		> /dev/null 2> "$f.err"
	[ -s "$BENCH_OUT/perf/kallsyms" ] || cat /proc/kallsyms > "$BENCH_OUT/perf/kallsyms"
	# the module profiled, for tests/bench/hotspots.py
	[ -s "$BENCH_OUT/perf/xt_ratewin.ko" ] || cp "$XTRW_KO" "$BENCH_OUT/perf/"
	[ -s "$f.err" ] || rm -f "$f.err"
}

# ---- GC: packet rate while 1M expiring entries are reclaimed --------------
# The table (one rule in raw PREROUTING) is filled by one sequential sweep;
# then traffic from one other source runs while the entries expire and GC
# (every second) reclaims them. The expiry must outlast the fill, or early
# entries go during the fill: by default it is 1.5 times the longest fill
# of as many sources in phase A, plus 3 s (gc_expire_ms below). The pkts
# counter, the kernel memory that holds tables (slab and vmalloc) and
# ratewin's entry count are sampled about every 100 ms.
do_gc() {
	local c=$1 expire_ms=$2 r f
	f=$BENCH_OUT/gc/$c.tsv
	mkdir -p "$BENCH_OUT/gc"
	ns_dev || return 1
	XT_TABLE=raw
	case $c in
	hashlimit)
		r="-m hashlimit --hashlimit-name hl --hashlimit-mode srcip --hashlimit-above $BENCH_RATE/sec"
		r+=" --hashlimit-burst $BENCH_BURST --hashlimit-htable-size $BENCH_SIZE"
		r+=" --hashlimit-htable-max $BENCH_MAX --hashlimit-htable-expire $expire_ms"
		r+=" --hashlimit-htable-gcinterval 1000"
		;;
	rw-*)
		r="-m ratewin --ratewin-name gc $RW_RATE --ratewin-htable-size $BENCH_SIZE"
		r+=" --ratewin-htable-max $BENCH_MAX --ratewin-htable-expire $expire_ms"
		r+=" --ratewin-htable-gcinterval 1000"
		;;
	esac
	# shellcheck disable=SC2086
	$IPT -t raw -A PREROUTING $r || { log "gc $c: rule failed"; return 1; }
	local t0=$EPOCHREALTIME
	pg_fill "$SRC_BASE" "$BENCH_GC_N" || return 1
	local t1=$EPOCHREALTIME
	pg_setup 0 "0:$(((10 << 24) | (200 << 16) | 1)):1" || return 1
	pg_start
	echo "# sweep $t0 $t1 $BENCH_GC_N expire_ms $expire_ms" > "$f"
	local end l mem v ent w
	# until the last entry filled has expired, and BENCH_GC_SECS more
	end=$((${t1%.*} + expire_ms / 1000 + BENCH_GC_SECS))
	while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
		read_sofar
		# kernel memory that holds tables: slab (entries of hashlimit)
		# plus vmalloc (hash tables; ratewin's entries)
		mem=0
		while IFS= read -r l; do
			case $l in
			Slab:*|VmallocUsed:*)
				v=${l#*:}
				v=${v% kB}
				mem=$((mem + ${v// /}))
				;;
			esac
		done < /proc/meminfo
		# ratewin's entry count, from its file's first line (one page of
		# the file is made, not the whole table); -1 where there is none
		ent=-1
		if [ -r /proc/net/xt_ratewin/gc ]; then
			read -r l < /proc/net/xt_ratewin/gc
			w=${l#*entries }
			ent=${w%%/*}
		fi
		echo "$TA $TB $SOFAR $mem $ent" >> "$f"
		sleep 0.1
	done
	pg_stop
	$IPT -t raw -F PREROUTING
}

# ---- scaling: one pktgen thread against two, on distinct sources ----------
do_scale() {
	local list=$BENCH_SCALE_CONTENDERS n c r th
	ns_dev || return 1
	mk_chains raw "$list" || return 1
	for c in $list; do
		stateful "$c" && ns_fill_chain "$c"
	done
	for n in $BENCH_SCALE_SOURCES; do
		# fill every table with both threads' sources
		for c in $list; do
			stateful "$c" || continue
			activate_prefill "$c"
			pg_setup "$n" "0:$SRC_BASE:$n:seq" "1:$SRC_BASE2:$n:seq"
			pg_run
			deactivate_all
		done
		for ((r = 1; r <= BENCH_SCALE_ROUNDS; r++)); do
			for c in $list; do
				activate "$c"
				for th in 1 2; do
					if [ "$th" = 1 ]; then
						pg_setup 0 "0:$SRC_BASE:$n"
					else
						pg_setup 0 "0:$SRC_BASE:$n" "1:$SRC_BASE2:$n"
					fi
					pg_start
					sleep "$BENCH_SETTLE"
					measure "$BENCH_SCALE_SECS"
					pg_stop
					echo "$n $r $c $th $M" >> "$BENCH_OUT/scale.tsv"
				done
			done
		done
		activate ""
	done
}

# ---- module setup (init namespace) ----------------------------------------
setup_modules() {
	local m ok=0
	# conntrack sized for a million flows before anything loads it
	modprobe nf_conntrack hashsize=1048576 || ok=1
	sysctl -qw net.netfilter.nf_conntrack_max=2400000 || ok=1
	modprobe xt_recent ip_list_tot="$BENCH_MAX" ip_pkt_list_tot=8 || ok=1
	for m in pktgen dummy nf_tables nft_compat nft_limit nft_chain_nat \
		xt_hashlimit xt_connlimit xt_mark xt_conntrack iptable_raw \
		iptable_mangle nf_conncount x_tables; do
		modprobe "$m" 2> /dev/null || log "modprobe $m failed"
	done
	if ! grep -q '^xt_ratewin ' /proc/modules; then
		insmod "$XTRW_KO" || ok=1
	fi
	return $ok
}

write_meta() {
	{
		echo "kernel=$(uname -r)"
		echo "cpus=$(grep -c ^processor /proc/cpuinfo)"
		echo "hz=$(awk '/^CONFIG_HZ=/ { sub(/.*=/, ""); print }' "/boot/config-$(uname -r)" 2> /dev/null)"
		echo "mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
		echo "cmdline=$(cat /proc/cmdline)"
		echo "iptables=$($IPT --version 2>&1)"
		echo "nft=$(nft --version 2>&1)"
		echo "perf=$(perf --version 2>&1 | head -n1)"
		echo "k=$BENCH_K"
		echo "fill_threads=$BENCH_FILL_THREADS"
		echo "sources_B=$BENCH_SOURCES_B"
		echo "connlimit_max=$BENCH_CONNLIMIT_MAX"
		echo "rounds=$BENCH_ROUNDS"
		echo "warmup_rounds=$BENCH_WARMUP_ROUNDS"
		echo "secs=$BENCH_SECS"
		echo "settle=$BENCH_SETTLE"
		echo "sources=$BENCH_SOURCES"
		echo "phase_A=$BENCH_A"
		echo "phase_B=$BENCH_B"
		echo "rate=$BENCH_RATE"
		echo "burst=$BENCH_BURST"
		echo "gc_n=$BENCH_GC_N"
		echo "scale_sources=$BENCH_SCALE_SOURCES"
		for c in none floor hashlimit recent nft rw-rate rw-window connlimit rw-conn rw-all; do
			case $(kind_of "$c") in
			xt) echo "rule_$c=$(rule_of "$c")" ;;
			nft) echo "rule_$c=update @rl { ip saddr limit rate over $BENCH_RATE/second burst $BENCH_BURST packets }" ;;
			esac
		done
		echo "prefill_recent=$(prefill_rule_of recent)"
	} > "$BENCH_OUT/meta.txt"
}

# ---- inside a namespace: `guest.sh --in-ns STAGE ARGS` ---------------------
if [ "${1:-}" = --in-ns ]; then
	shift
	stage=$1
	shift
	case $stage in
	phase) do_phase "$@" ;;
	gc) do_gc "$@" ;;
	scale) do_scale ;;
	esac
	rc=$?
	pg_stop
	exit $rc
fi

# ---- main -----------------------------------------------------------------
# Clock match for the host (see sample_cpu in tests/bench/run.sh): each
# file holds this guest's time; its mtime is the host's time of the write.
SYNC_N=0
sync_marks() {
	local i
	mkdir -p "$BENCH_OUT/sync"
	for i in 1 2 3 4 5; do
		SYNC_N=$((SYNC_N + 1))
		echo "$EPOCHREALTIME" > "$BENCH_OUT/sync/$SYNC_N"
		sleep 0.05
	done
}

in_ns() { # stage args...: in a fresh namespace, deleted afterwards
	local ns=bench$$ rc
	ip netns add "$ns" || return 1
	ip netns exec "$ns" bash "$SELF" --in-ns "$@"
	rc=$?
	ip netns del "$ns"
	wait_quiet
	return $rc
}

# Let a deleted namespace's tables and conntrack entries go (the kernel
# frees them from a work queue) before the next stage measures anything:
# wait until the slab total stays within 2 MB for a second, 60 s at most.
wait_quiet() {
	local prev=0 cur l i
	for i in $(seq 1 60); do
		sleep 1
		cur=0
		while IFS= read -r l; do
			case $l in Slab:*) l=${l#Slab:}; cur=${l% kB}; cur=${cur// /}; break ;; esac
		done < /proc/meminfo
		if [ $((cur - prev)) -lt 2048 ] && [ $((prev - cur)) -lt 2048 ]; then
			log "quiet after $i s (slab $((cur / 1024)) MB)"
			return 0
		fi
		prev=$cur
	done
	log "not quiet after 60 s (slab $((cur / 1024)) MB)"
}

echo "TAP version 13"
echo "# make bench (guest part): raw numbers go to $BENCH_OUT"
T_START=$EPOCHREALTIME
# The controlling shell and its children stay on CPU 1; pktgen's first
# thread owns CPU 0.
taskset -pc 1 $$ > /dev/null 2>&1
: > "$BENCH_OUT/tput.tsv"
: > "$BENCH_OUT/prefill.tsv"
: > "$BENCH_OUT/scale.tsv"
if setup_modules; then
	tap ok "modules loaded (pktgen, conntrack, matches, xt_ratewin)"
else
	tap "not ok" "modules loaded"
fi
write_meta

# Warm-up: whichever stage runs first after boot measures every rule high
# (the floor at 1 source 3440 ns against 923 to 1170 in later stages; with
# the 1M stages first, hashlimit at 1M 8328 ns against 4974 and 5013), so
# a short stage of the first phase at the fewest sources runs first,
# measured but thrown away (its numbers go to warmup/).
if [ "$BENCH_WARMUP_ROUNDS" -gt 0 ]; then
	sync_marks
	t=$EPOCHREALTIME
	n=$(echo "$BENCH_SOURCES" | tr -s " " "\n" | sort -n | head -n 1)
	ph=$(echo "$BENCH_PHASES" | tr -s " " "\n" | head -n 1)
	if XTRW_WARMUP=1 in_ns phase "$ph" "$n" > /dev/null 2>&1; then
		tap ok "warm-up: phase $ph, $n sources, $BENCH_WARMUP_ROUNDS rounds, not used"
	else
		tap "not ok" "warm-up"
	fi
	echo "stage warmup $t $EPOCHREALTIME" >> "$BENCH_OUT/stages.txt"
fi
for n in $BENCH_SOURCES; do
	for ph in $BENCH_PHASES; do
		[ "$ph" = B ] && [[ " $BENCH_SOURCES_B " != *" $n "* ]] && continue
		sync_marks
		t=$EPOCHREALTIME
		if in_ns phase "$ph" "$n"; then
			tap ok "phase $ph, $n sources (${EPOCHREALTIME%.*}-${t%.*} s)"
		else
			tap "not ok" "phase $ph, $n sources"
		fi
		echo "stage phase-$ph-$n $t $EPOCHREALTIME" >> "$BENCH_OUT/stages.txt"
	done
done
# The GC stage's expiry: BENCH_GC_EXPIRE_MS, else 1.5 x the longest fill of
# BENCH_GC_N sources by a GC contender in phase A (this run) + 3 s.
gc_expire_ms() {
	local ms
	if [ -n "$BENCH_GC_EXPIRE_MS" ]; then
		echo "$BENCH_GC_EXPIRE_MS"
		return
	fi
	ms=$(awk -v n="$BENCH_GC_N" -v cs=" $BENCH_GC_CONTENDERS " '
		$1 == "A" && $2 == n && index(cs, " " $3 " ") {
			d = $5 - $4; if (d > m) m = d
		}
		END { printf "%d", m * 1000 }' "$BENCH_OUT/prefill.tsv")
	if [ "${ms:-0}" -gt 0 ]; then
		echo $(((ms * 3 / 2 + 3000 + 999) / 1000 * 1000))
	else
		echo 30000
	fi
}

if [ "$BENCH_GC" = 1 ]; then
	sync_marks
	gc_ms=$(gc_expire_ms)
	log "gc: expiry $gc_ms ms"
	for c in $BENCH_GC_CONTENDERS; do
		t=$EPOCHREALTIME
		if in_ns gc "$c" "$gc_ms"; then tap ok "gc sweep: $c"; else tap "not ok" "gc sweep: $c"; fi
		echo "stage gc-$c $t $EPOCHREALTIME" >> "$BENCH_OUT/stages.txt"
	done
fi
if [ "$BENCH_SCALE" = 1 ]; then
	sync_marks
	t=$EPOCHREALTIME
	if in_ns scale; then tap ok "scaling: 1 vs 2 pktgen threads"; else tap "not ok" "scaling"; fi
	echo "stage scale $t $EPOCHREALTIME" >> "$BENCH_OUT/stages.txt"
fi
sync_marks
dmesg > "$BENCH_OUT/dmesg.txt"
echo "total $T_START $EPOCHREALTIME" >> "$BENCH_OUT/stages.txt"
echo "1..$tap_n"
[ "$tap_fail" = 0 ]

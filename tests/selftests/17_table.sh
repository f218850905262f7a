#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The table's array of slots: it grows from its smallest size through
# several rebuilds with every entry's state kept; two CPUs insert the same
# new keys at once while it grows under them, and every packet is counted
# in exactly one entry of each key; GC and flushes shrink it back.
# vm-timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/traffic.sh"
require_root
checktool "python3 --version" "run without python3"
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_ns NS || ksft_exit_fail "namespace"
D=/proc/net/xt_ratewin
IPT=iptables
TUNE=(--ratewin-htable-size 256 --ratewin-htable-max 100000)

in_ns "$NS" ip link add dum0 type dummy &&
	in_ns "$NS" ip link set dum0 up &&
	in_ns "$NS" ip addr add 10.77.255.1/16 dev dum0 ||
	ksft_exit_fail "dummy device"

# memline TABLE: its "# memory ..." header line
memline() { in_ns "$NS" grep -m1 '^# memory ' "$D/$1"; }
# slots TABLE: how many slots its array has now
slots() { memline "$1" | sed -n 's/.*: \([0-9]*\) slots of .*/\1/p'; }
# entries TABLE: its entry count, from the header
entries() { in_ns "$NS" head -n1 "$D/$1" | sed -n 's/.*entries \([0-9]*\)\/.*/\1/p'; }
# summary TABLE: "LINES DISTINCT-KEYS SUM-ADMITTED SUM-OVER" of its entry lines
summary() {
	in_ns "$NS" cat "$D/$1" | awk '
		/^#/ { next }
		{ lines++; key = ""
		  for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "src" || kv[1] == "dst" || kv[1] == "sport" || kv[1] == "dport")
				key = key " " $i
			if (kv[1] == "admitted") a += kv[2]
			if (kv[1] == "over") o += kv[2]
		  }
		  if (!(key in seen)) { seen[key] = 1; keys++ } }
		END { printf "%d %d %d %d\n", lines, keys, a, o }'
}
# slots_at_least TABLE N: its array has N slots or more
slots_at_least() { [ "$(slots "$1")" -ge "$2" ]; }
# table_is TABLE N SLOTS USED: the header says N entries, SLOTS slots, USED used
table_is() {
	[ "$(entries "$1")" = "$2" ] &&
		memline "$1" | grep -q ": $3 slots of [0-9]* bytes, $4 used, "
}

# ---- growth through rebuilds, every entry's state kept ----
in_ns "$NS" $IPT -t raw -A PREROUTING -s 192.0.2.99 -m ratewin \
	--ratewin-name grow --ratewin-window 5/1h "${TUNE[@]}" \
	--ratewin-htable-expire 3600000 || ksft_exit_fail "rule grow"
# an IPv4 table's keys are narrow: 36 bytes, a 4-byte address and a
# 24-byte window of 5 events; 64 a slot
expect_eq "a new table starts at its smallest array: 256 slots of 64 bytes (narrow IPv4 keys), none used" \
	"$(memline grow | sed 's/# memory [0-9]* KB: //')" "256 slots of 64 bytes, 0 used, unstored 0"

# 5000 IPv4 and 1000 IPv6 keys, one event each; the first 2000 IPv4 keys
# a second one, written after the table has grown past them and after
# the first IPv6 key made its keys wide
r=$(in_ns "$NS" python3 - "$D/grow" << 'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
v4 = [b"10.60.%d.%d" % (i // 200, i % 200 + 1) for i in range(5000)]
v6 = [b"2001:db8:60::%x" % (i + 1) for i in range(1000)]
bad = 0
for k in v4 + v6 + v4[:2000]:
    try:
        os.write(fd, b"+" + k + b"\n")
    except OSError:
        bad += 1
os.close(fd)
seen = {}
for line in open(sys.argv[1], "rb"):
    if line.startswith(b"#"):
        continue
    f = dict(w.split(b"=", 1) for w in line.split())
    seen.setdefault(f[b"src"], []).append((f[b"window"], f[b"admitted"]))
want = {k: [(b"2/5", b"2")] for k in v4[:2000]}
want.update({k: [(b"1/5", b"1")] for k in v4[2000:] + v6})
wrong = sum(1 for k in want if seen.get(k) != want[k])
print(bad, len(seen), wrong, len(set(seen) - set(want)))
EOF
)
expect_eq "8000 +KEY writes into a 256-slot table: none refused, 6000 keys, each once with its events (2/5 or 1/5), none unknown" \
	"$r" "0 6000 0 0"
s=$(slots grow)
info "after growing: $(memline grow)"
check "the array grew with them: $s slots for 6000 (a small array is rebuilt at half full)" \
	test "${s:-0}" -ge 11998
expect_eq "the header counts 6000 entries" "$(entries grow)" 6000
expect_eq "the first IPv6 key made the keys wide: 16-byte addresses, 80-byte slots" \
	"$(memline grow | sed -n 's/.* slots of \([0-9]*\) bytes,.*/\1/p')" 80
wr() { in_ns "$NS" sh -c "printf '%s' '$2' > $D/$1" 2> /dev/null; }
check "flush" wr grow "/"
check "a flushed table is back at its smallest array, none used" table_is grow 0 256 0
in_ns "$NS" $IPT -t raw -F PREROUTING

# ---- two CPUs insert the same new keys while the array grows under them ----
if modprobe pktgen 2> /dev/null && [ "$(nproc)" -ge 2 ]; then
	# the table's rule (it counts its matches: packets over, none here),
	# then one that counts every packet
	in_ns "$NS" $IPT -t raw -A PREROUTING -i dum0 -m ratewin --ratewin-name race \
		--ratewin-rate 1000000/s --ratewin-burst 1000000 "${TUNE[@]}" \
		--ratewin-htable-expire 3600000 || fail "rule race"
	in_ns "$NS" $IPT -t raw -A PREROUTING -i dum0 -j ACCEPT
	mac=$(in_ns "$NS" cat /sys/class/net/dum0/address)
	# each thread: the 4096 sources 10.77.0.0-10.77.15.255 in order, 4 times
	pg_ok=1
	for th in 0 1; do
		in_ns "$NS" sh -c "
			PG=/proc/net/pktgen
			echo rem_device_all > \$PG/kpktgend_$th
			echo 'add_device dum0@$th' > \$PG/kpktgend_$th
			for c in 'count 16384' 'pkt_size 60' 'delay 0' \
				'xmit_mode netif_receive' 'burst 1' 'dst 10.77.255.1' \
				'dst_mac $mac' 'src_min 10.77.0.0' 'src_max 10.77.15.255' \
				'flag !IPSRC_RND' 'udp_dst_min 9' 'udp_dst_max 9'; do
				echo \"\$c\" > \$PG/dum0@$th || exit 1
			done" || pg_ok=0
	done
	if [ $pg_ok = 1 ]; then
		cleanup_add in_ns "$NS" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
		# returns once both threads have sent their count
		timeout 200 ip netns exec "$NS" sh -c 'echo start > /proc/net/pktgen/pgctrl'
		all=$(in_ns "$NS" $IPT -t raw -vnxL PREROUTING --line-numbers | awk '$1 == "2" { print $2 }')
		rule=$(in_ns "$NS" $IPT -t raw -vnxL PREROUTING --line-numbers | awk '$1 == "1" { print $2 }')
		in_ns "$NS" $IPT -t raw -vnxL PREROUTING --line-numbers | sed 's/^/#   /' 
		# the GC work grows the array on after the traffic: read it settled
		check "the array ends at least twice the entries (from 256 slots)" \
			wait_for 30 slots_at_least race 8192
		full=$(in_ns "$NS" sed -n 's/^# full \([0-9]*\),.*/\1/p' "$D/race")
		uns=$(memline race | sed -n 's/.*, unstored \([0-9]*\)$/\1/p')
		read -r lines keys adm over < <(summary race)
		info "DEBUG second read: $(summary race)"
		info "after the race: $(memline race); $all packets, $uns of them from new keys decided but not stored while the array grew"
		expect_eq "2 x 16384 packets from 4096 sources on two CPUs: 4096 entries, each key once; every packet admitted in one of them or counted unstored; none over, none refused as full" \
			"$lines $keys $((adm + uns)) $over $all $rule $full" "4096 4096 32768 0 32768 0 0"
	else
		fail "pktgen setup"
	fi
	in_ns "$NS" $IPT -t raw -F PREROUTING
else
	skip "two CPUs inserting while the array grows" "no pktgen or one CPU"
fi

# ---- arrays made up front are bounded, per table and in all ----
# --ratewin-htable-size asks for an array before any key needs it: one
# table gets at most a sixteenth of the memory, and once all tables' arrays
# hold a quarter, a new table starts at 256 slots (and grows with its keys).
# Eight tables of the largest size allowed, 448-byte slots (a window of 100).
kb_of() { memline "$1" | sed -n 's/^# memory \([0-9]*\) KB:.*/\1/p'; }
ram_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
total=0 small=0 biggest=0 made=0
for i in 0 1 2 3 4 5 6 7; do
	in_ns "$NS" $IPT -t raw -A PREROUTING -s 192.0.2.98 -m ratewin \
		--ratewin-name big$i --ratewin-window 100/1s \
		--ratewin-htable-size 16777216 --ratewin-htable-max 67108864 ||
		break
	made=$((made + 1))
	kb=$(kb_of big$i)
	total=$((total + ${kb:-0}))
	[ "${kb:-0}" -gt "$biggest" ] && biggest=$kb
	[ "$(slots big$i)" = 256 ] && small=$((small + 1))
done
info "8 tables of 16777216 slots asked: $total KB in all, the largest $biggest KB, $small at 256 slots; memory $ram_kb KB"
expect_eq "eight rules asking for the largest array are all loaded" "$made" 8
check "no table's array above a sixteenth of the memory ($biggest KB of $ram_kb)" \
	test "$biggest" -le $((ram_kb / 16 + 1))
check "all of them within a quarter of the memory, and 256 slots each beyond ($total KB)" \
	test "$total" -le $((ram_kb / 4 + 8 * 112))
check "the tables past the quarter start at 256 slots ($small of 8)" \
	test "$small" -ge 3
in_ns "$NS" $IPT -t raw -F PREROUTING

# ---- GC reclaims every entry, and the array shrinks back ----
in_ns "$NS" $IPT -t raw -A PREROUTING -s 192.0.2.99 -m ratewin \
	--ratewin-name gc --ratewin-window 5/1s "${TUNE[@]}" \
	--ratewin-htable-expire 500 --ratewin-htable-gcinterval 100 ||
	fail "rule gc"
in_ns "$NS" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for i in range(3000):
    os.write(fd, b"+10.61.%d.%d\n" % (i // 200, i % 200 + 1))
' "$D/gc"
s=$(slots gc)
info "filled: $(head -n1 < <(in_ns "$NS" cat "$D/gc")); $(memline gc)"
check "3000 keys grew the array: $s slots" test "${s:-0}" -ge 5998
check "once they are idle, GC reclaims them all and shrinks the array back: 0 entries, 256 slots, none used" \
	wait_for 60 table_is gc 0 256 0
info "$(in_ns "$NS" sed -n 2p "$D/gc"); $(memline gc)"
expect_eq "and counts them reclaimed" \
	"$(in_ns "$NS" sed -n 's/^# full \([0-9]*\), reclaimed \([0-9]*\),.*/\1 \2/p' "$D/gc")" \
	"0 3000"
in_ns "$NS" $IPT -t raw -F PREROUTING
ksft_exit

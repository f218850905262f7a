#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# /proc/net/xt_ratewin/NAME (SPEC section 5): known traffic between two
# namespaces, then every field of the file checked against it; the header;
# writes (forget, flush, add) changing what the rules decide; 1000+
# malformed writes refused with EINVAL and changing nothing; reading and
# flushing during a flood; files and namespaces coming and going; who may
# read and write; a user namespace's root owning its files.
# vm-timeout: 900
# vm-boot: heavy-proc
. "$(dirname "$0")/lib.sh"
require_root
checktool "python3 --version" "run without python3"
have_plugin || ksft_exit_skip "plugin not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "namespaces"

D=/proc/net/xt_ratewin
# The file's times are jiffies; the checks of them measure with jiffies too
# (/proc/uptime runs on while a starved guest's jiffies lag behind: 3 s
# apart has been seen on a loaded machine).
require_hz
IPT=iptables
IP6T=ip6tables

# ---- helpers ----

# section TEXT: a comment with the guest's uptime, to see where time goes
section() { info "[$(cut -d' ' -f1 /proc/uptime)] $*"; }

# show NS TABLE: the file as a suite comment
show() {
	info "---- $D/$2 ----"
	in_ns "$1" cat "$D/$2" | sed 's/^/#   /'
}

# entry NS TABLE KEY: the entry line for KEY (its key fields, as shown)
entry() {
	in_ns "$1" cat "$D/$2" | grep -m1 "^$3 "
}

# jspan J0 J1: the seconds from jiffies J0 to J1
jspan() { awk -v a="$1" -v b="$2" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz }'; }

# jiffies_past J: jiffies have reached J
jiffies_past() { [ "$(jiffies_now)" -ge "$1" ]; }

# fv LINE NAME: the value of NAME= in LINE
# (in bash: a process per call costs a second in a starved guest)
fv() {
	local -a ws
	local w
	read -r -a ws <<< "$1"
	for w in "${ws[@]}"; do
		[ "${w%%=*}" = "$2" ] && [ "$w" != "$2" ] && printf '%s\n' "${w#*=}"
	done
	return 0
}

# fnames LINE: the field names of LINE, space-separated
fnames() {
	local -a ws names=()
	local w
	read -r -a ws <<< "$1"
	for w in "${ws[@]}"; do
		names+=("${w%%=*}")
	done
	echo "${names[*]}"
}

# secs VALUE: "1.200s" or "0s" -> 1.200
secs() { echo "${1%s}"; }

# fcheck DESC AWK-CONDITION VAR=VALUE...: a point from a numeric condition
fcheck() {
	local desc=$1 cond=$2
	shift 2
	if awk "$@" "BEGIN { exit !($cond) }" < /dev/null; then
		ok "$desc"
	else
		fail "$desc ($*)"
	fi
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1"
		info "  got:  $2"
		info "  want: $3"
	fi
}

# udp NS DST PORT N: N datagrams, one after the other
udp() {
	in_ns "$1" bash -c "for i in \$(seq $4); do echo x > /dev/udp/$2/$3; done" \
		2> /dev/null
	true
}

# pwrite NS FILE DATA: one write(2) of DATA (a Python bytes literal body);
# prints OK or the errno name
pwrite() {
	in_ns "$1" python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, eval("b\"" + sys.argv[2] + "\""))
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
' "$2" "$3" 2>&1
}

# wr_expect DESC NS TABLE DATA WANT: a write of DATA gives WANT (OK, EINVAL..)
wr_expect() {
	local got
	got=$(pwrite "$2" "$D/$3" "$4")
	if [ "$got" = "$5" ]; then
		ok "$1"
	else
		fail "$1 (write \"$4\": got $got, want $5)"
	fi
}

# strip_time: the file without the fields that move with the clock
strip_time() { sed -E 's/ (last|next|ban)=[0-9.]+s//g'; }

# ---- the directory ----

check "directory $D in a namespace" in_ns "$NS_B" test -d "$D"
expect_eq "empty before any rule" "$(in_ns "$NS_B" ls -A "$D" | wc -l)" 0

# ---- known traffic, every field ----

# (10 minutes: a niced boot beside busy ones can lose a minute between two
# reads, and a 1-minute window would empty, its entry go, in between)
section "window table: 8 datagrams, window 5/10m"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9001 -m ratewin --ratewin-name win \
	--ratewin-window 5/10m -j DROP || ksft_exit_fail "rule win"
in_ns "$NS_B" $IP6T -A INPUT -p udp --dport 9001 -m ratewin --ratewin-name win \
	--ratewin-window 5/10m -j DROP || ksft_exit_fail "rule win (IPv6)"
check "file appears with the rule" in_ns "$NS_B" test -f "$D/win"
expect_eq "file mode and owner" "$(in_ns "$NS_B" stat -c '%a %u %g' "$D/win")" \
	"600 0 0"
j_first=$(jiffies_now)
udp "$NS_A" "$IP4_B" 9001 7
j_last=$(jiffies_now)
udp "$NS_A" "$IP4_B" 9001 1
j_sent=$(jiffies_now)
udp "$NS_A" "$IP6_B" 9001 2
l4=$(entry "$NS_B" win "src=$IP4_A")
j_read=$(jiffies_now)
l6=$(entry "$NS_B" win "src=$IP6_A")
show "$NS_B" win
expect_eq "header line 1" "$(in_ns "$NS_B" head -n1 "$D/win")" \
	"# table win: entries 2/65536, limits window 5/10m"
expect_eq "header line 2" "$(in_ns "$NS_B" sed -n 2p "$D/win")" \
	"# full 0, reclaimed 0, mode srcip"
expect_eq "IPv4 entry: field names in order" \
	"$(fnames "$l4")" \
	"src last window next admitted over"
expect_eq "IPv4 entry: window=5/5 admitted=5 over=3" \
	"$(fv "$l4" window) $(fv "$l4" admitted) $(fv "$l4" over)" "5/5 5 3"
expect_eq "IPv6 entry in compressed form: window=2/5 next=0s admitted=2 over=0" \
	"$(fv "$l6" src) $(fv "$l6" window) $(fv "$l6" next) $(fv "$l6" admitted) $(fv "$l6" over)" \
	"$IP6_A 2/5 0s 2 0"
expect_eq "rule counter equals over=" \
	"$(in_ns "$NS_B" $IPT -nvxL INPUT | awk '/ratewin/ { print $1; exit }')" 3
last1=$(secs "$(fv "$l4" last)")
next1=$(secs "$(fv "$l4" next)")
# "just now": no older than the jiffies from before the last IPv4
# datagram's send to after the read (a starved guest stretches that, not
# the check); "0s" when it is 0
fcheck "last= is seconds with milliseconds, just now ($last1, read $(jspan "$j_last" "$j_read") s after the send began)" \
	"l ~ /^([0-9]+\\.[0-9][0-9][0-9]|0)\$/ && l >= 0 && l <= (j1 - j0) / hz + 0.001" \
	-v l="$last1" -v j0="$j_last" -v j1="$j_read" -v hz="$HZ"
# next + last = 600 - (time from the first admitted packet to the last),
# and that is at most the jiffies the eight sends took
fcheck "next= is 600 s after the first admitted packet, sent at most $(jspan "$j_first" "$j_sent") s before the last ($next1, last $last1)" \
	"n + l <= 600 + 0.01 && n + l >= 600 - (j1 - j0) / hz - 0.01" \
	-v n="$next1" -v l="$last1" -v j0="$j_first" -v j1="$j_sent" -v hz="$HZ"
# 1.5 s of jiffies on (a sleep can end before a starved guest's jiffies
# get there)
wait_for 60 jiffies_past "$((j_read + 3 * HZ / 2))" || fail "jiffies did not move on 1.5 s in 60 s"
l4b=$(entry "$NS_B" win "src=$IP4_A")
last2=$(secs "$(fv "$l4b" last)")
next2=$(secs "$(fv "$l4b" next)")
fcheck "1.5 s later: last grew and next shrank by the same time ($last1->$last2, $next1->$next2)" \
	"l2 - l1 >= 1.499 && (l2 - l1) - (n1 - n2) < 0.02 && (n1 - n2) - (l2 - l1) < 0.02" \
	-v l1="$last1" -v l2="$last2" -v n1="$next1" -v n2="$next2"
expect_eq "reading changed nothing else" "$(strip_time <<< "$l4b")" \
	"$(strip_time <<< "$l4")"

section "rate table: 7 datagrams, rate 10/minute burst 5"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9002 -m ratewin --ratewin-name rate \
	--ratewin-rate 10/minute -j DROP || ksft_exit_fail "rule rate"
j_first=$(jiffies_now)
udp "$NS_A" "$IP4_B" 9002 7
t_span=$(jspan "$j_first" "$(jiffies_now)")
l=$(entry "$NS_B" rate "src=$IP4_A")
show "$NS_B" rate
expect_eq "header: rate and burst in the rule's words" \
	"$(in_ns "$NS_B" head -n1 "$D/rate")" \
	"# table rate: entries 1/65536, limits rate 10/minute burst 5"
expect_eq "rate entry: fields" "$(fnames "$l")" \
	"src last tokens admitted over"
expect_eq "rate entry: admitted=5 over=2" "$(fv "$l" admitted) $(fv "$l" over)" "5 2"
tok=$(fv "$l" tokens)
# (refilled since the fifth packet, which came at most the sending time,
# in jiffies, before the last)
fcheck "tokens=X.Y/5 with one decimal, refilled one per 6 s since the first packet (at most 5) ($tok, last=$(fv "$l" last), sent in $t_span s)" \
	"tk ~ /^[0-9]+\\.[0-9]\\/5\$/ && tk + 0 >= (la / 6 - 0.15 < 5 ? la / 6 - 0.15 : 5) && tk + 0 <= (la + sp + 0.01) / 6" \
	-v tk="$tok" -v la="$(secs "$(fv "$l" last)")" -v sp="$t_span"
j_read=$(jiffies_now)
wait_for 60 jiffies_past "$((j_read + 3 * HZ))" || fail "jiffies did not move on 3 s in 60 s"
l=$(entry "$NS_B" rate "src=$IP4_A")
tok=$(fv "$l" tokens)
fcheck "3 s later the bucket shows the refill ($tok, last=$(fv "$l" last))" \
	"tk + 0 >= (la / 6 - 0.15 < 5 ? la / 6 - 0.15 : 5) && tk + 0 <= (la + sp + 0.01) / 6 && tk + 0 >= 0.4" \
	-v tk="$tok" -v la="$(secs "$(fv "$l" last)")" -v sp="$t_span"

section "ban table: window 2/1m, ban 10m, count-all"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9003 -m ratewin --ratewin-name ban \
	--ratewin-window 2/1m --ratewin-count-all --ratewin-ban 10m -j DROP ||
	ksft_exit_fail "rule ban"
udp "$NS_A" "$IP4_B" 9003 3
l=$(entry "$NS_B" ban "src=$IP4_A")
show "$NS_B" ban
expect_eq "header: window, ban, count-all" "$(in_ns "$NS_B" head -n1 "$D/ban")" \
	"# table ban: entries 1/65536, limits window 2/1m ban 10m count-all"
expect_eq "ban entry: fields" "$(fnames "$l")" \
	"src last window next ban admitted over"
expect_eq "ban entry: window=2/2 (count-all: 3 events, the oldest fell out) admitted=2 over=1" \
	"$(fv "$l" window) $(fv "$l" admitted) $(fv "$l" over)" "2/2 2 1"
fcheck "ban= is the ban time left: ban + last is 10 minutes ($(fv "$l" ban) + $(fv "$l" last))" \
	"b + la > 599.95 && b + la <= 600.05" \
	-v b="$(secs "$(fv "$l" ban)")" -v la="$(secs "$(fv "$l" last)")"

section "conn table: conn-above 3, two connections held"
TOOL="python3 $XTRW_SRC/tests/selftests/tcptool.py"
in_ns "$NS_B" $TOOL serve 7000 > /dev/null 2>&1 &
cleanup_add kill $!
wait_for 60 in_ns "$NS_B" sh -c "ss -Hltn 'sport = :7000' | grep -q ." ||
	ksft_exit_fail "server listens"
in_ns "$NS_B" $IPT -A INPUT -p tcp --dport 7000 --syn -m ratewin --ratewin-name conn \
	--ratewin-conn-above 3 --ratewin-rate 100/s --ratewin-burst 50 \
	-j REJECT --reject-with tcp-reset || ksft_exit_fail "rule conn"
coproc HOLD { in_ns "$NS_A" $TOOL hold "$IP4_B" 7000 2; }
read -r -t 60 _ <&"${HOLD[0]}"
read -r -t 60 _ <&"${HOLD[0]}"
l=$(entry "$NS_B" conn "src=$IP4_A")
show "$NS_B" conn
expect_eq "header: rate, burst, conn-above" "$(in_ns "$NS_B" head -n1 "$D/conn")" \
	"# table conn: entries 1/65536, limits rate 100/second burst 50 conn-above 3"
expect_eq "conn entry: fields" "$(fnames "$l")" \
	"src last tokens conns admitted over"
expect_eq "conn entry: conns=2 admitted=2 over=0" \
	"$(fv "$l" conns) $(fv "$l" admitted) $(fv "$l" over)" "2 2 0"
echo quit >&"${HOLD[1]}"
wait "$HOLD_PID" 2> /dev/null

section "the SSH case: a new connection every 200 ms against window 5/1m"
in_ns "$NS_B" $TOOL serve 22 > /dev/null 2>&1 &
cleanup_add kill $!
wait_for 60 in_ns "$NS_B" sh -c "ss -Hltn 'sport = :22' | grep -q ." ||
	ksft_exit_fail "ssh server listens"
in_ns "$NS_B" $IPT -A INPUT -p tcp --dport 22 --syn -m ratewin --ratewin-name ssh \
	--ratewin-window 5/1m -j REJECT --reject-with tcp-reset || ksft_exit_fail "rule ssh"
log=$(in_ns "$NS_A" $TOOL attempts "$IP4_B" 22 0.2 3 "$HZ")
l=$(entry "$NS_B" ssh "src=$IP4_A")
show "$NS_B" ssh
expect_eq "admitted= and over= are the connections that got in and were refused" \
	"$(fv "$l" admitted) $(fv "$l" over) $(fv "$l" window)" \
	"$(grep -c ' ok$' <<< "$log") $(grep -c ' refused$' <<< "$log") 5/5"
# next = 60 - (time since the first admitted SYN), last = time since the
# last SYN, so 60 - next - last is the time from the first admitted SYN to
# the last SYN. Each attempt's log line ("SENT DONE RESULT") brackets when
# its SYN met the rule, in jiffies like the module's clock, so that time
# lies between the last attempt's SENT minus the first admitted one's DONE
# and the last's DONE minus the first's SENT (plus 20 ms: milliseconds
# shown), however slowly the guest ran.
read -r f_s f_d _ <<< "$(awk '$3 == "ok" { print; exit }' <<< "$log")"
read -r n_s n_d _ <<< "$(tail -n1 <<< "$log")"
fcheck "next= is when the first admitted connection leaves the window ($(fv "$l" next), last $(fv "$l" last); first admitted $f_s..$f_d s, last try $n_s..$n_d s)" \
	"d >= ns - fd - 0.02 && d <= nd - fs + 0.02" \
	-v d="$(awk -v n="$(secs "$(fv "$l" next)")" -v la="$(secs "$(fv "$l" last)")" 'BEGIN { print 60 - n - la }')" \
	-v fs="${f_s:-0}" -v fd="${f_d:-0}" -v ns="${n_s:-0}" -v nd="${n_d:--1}"

section "key fields: masks, ports, bytes"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9004 -m ratewin --ratewin-name m24 \
	--ratewin-srcmask 24 --ratewin-window 10/1h -j DROP || ksft_exit_fail "rule m24"
in_ns "$NS_B" $IP6T -A INPUT -p udp --dport 9004 -m ratewin --ratewin-name m24 \
	--ratewin-srcmask 64 --ratewin-window 10/1h -j DROP || ksft_exit_fail "rule m24 (IPv6)"
udp "$NS_A" "$IP4_B" 9004 1
udp "$NS_A" "$IP6_B" 9004 1
show "$NS_B" m24
expect_eq "masked IPv4 key shows /24" \
	"$(entry "$NS_B" m24 "src=10.99.1.0/24" | cut -d' ' -f1)" "src=10.99.1.0/24"
expect_eq "masked IPv6 key shows /64" \
	"$(entry "$NS_B" m24 "src=fd00:99:1::/64" | cut -d' ' -f1)" "src=fd00:99:1::/64"
expect_eq "header: the masks of both families" "$(in_ns "$NS_B" sed -n 2p "$D/m24")" \
	"# full 0, reclaimed 0, mode srcip, srcmask ipv4 24 ipv6 64"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9005 -m ratewin --ratewin-name sdp \
	--ratewin-mode srcip,dstip,dstport --ratewin-window 10/1h -j DROP ||
	ksft_exit_fail "rule sdp"
udp "$NS_A" "$IP4_B" 9005 2
show "$NS_B" sdp
expect_eq "srcip,dstip,dstport key" \
	"$(entry "$NS_B" sdp "src=$IP4_A dst=$IP4_B dport=9005" | cut -d' ' -f1-3,7-)" \
	"src=$IP4_A dst=$IP4_B dport=9005 admitted=2 over=0"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9006 -m ratewin --ratewin-name dp \
	--ratewin-mode dstport --ratewin-window 10/1h -j DROP || ksft_exit_fail "rule dp"
udp "$NS_A" "$IP4_B" 9006 1
expect_eq "port-only key names its family" \
	"$(in_ns "$NS_B" sed -n 4p "$D/dp" | cut -d' ' -f1-2)" "dport=9006 family=ipv4"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9007 -m ratewin --ratewin-name bytes \
	--ratewin-rate 512kb/s --ratewin-burst 64kb -j DROP || ksft_exit_fail "rule bytes"
udp "$NS_A" "$IP4_B" 9007 1
show "$NS_B" bytes
expect_eq "header: byte rate and burst in the rule's words" \
	"$(in_ns "$NS_B" head -n1 "$D/bytes")" \
	"# table bytes: entries 1/65536, limits rate 512kb/s burst 64kb"
tok=$(fv "$(entry "$NS_B" bytes "src=$IP4_A")" tokens)
fcheck "byte tokens: bytes with one decimal, out of 65536 ($tok)" \
	"tk ~ /^[0-9]+\\.[0-9]\\/65536\$/ && tk + 0 >= 65536 - 100 && tk + 0 <= 65536" \
	-v tk="$tok"

# ---- writes change what the rules decide ----

section "writes: forget, add, flush"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9012 -m ratewin --ratewin-name wr \
	--ratewin-window 3/1h -j DROP || ksft_exit_fail "rule wr"
in_ns "$NS_B" $IP6T -A INPUT -p udp --dport 9012 -m ratewin --ratewin-name wr \
	--ratewin-window 3/1h -j DROP || ksft_exit_fail "rule wr (IPv6)"
udp "$NS_A" "$IP4_B" 9012 5
l=$(entry "$NS_B" wr "src=$IP4_A")
expect_eq "a source locked out: 3 admitted, 2 over" "$(fv "$l" admitted) $(fv "$l" over)" "3 2"
wr_expect "-KEY of the locked-out source" "$NS_B" wr "-$IP4_A\\n" OK
expect_eq "its entry is gone" "$(entry "$NS_B" wr "src=$IP4_A")" ""
udp "$NS_A" "$IP4_B" 9012 1
l=$(entry "$NS_B" wr "src=$IP4_A")
expect_eq "and its next packet is admitted" "$(fv "$l" admitted) $(fv "$l" over)" "1 0"
wr_expect "-KEY of a key without an entry is ENOENT" "$NS_B" wr "-192.0.2.1" ENOENT
wr_expect "-src=KEY form" "$NS_B" wr "-src=$IP4_A" OK
for _ in 1 2 3; do
	r=$(pwrite "$NS_B" "$D/wr" "+$IP4_A\\n")
	[ "$r" = OK ] || break
done
l=$(entry "$NS_B" wr "src=$IP4_A")
expect_eq "+KEY three times records three admitted events" \
	"$r $(fv "$l" window) $(fv "$l" admitted)" "OK 3/3 3"
udp "$NS_A" "$IP4_B" 9012 1
l=$(entry "$NS_B" wr "src=$IP4_A")
expect_eq "and the next packet is over" "$(fv "$l" admitted) $(fv "$l" over)" "3 1"
wr_expect "+KEY of a new IPv6 source" "$NS_B" wr "+src=$IP6_A" OK
udp "$NS_A" "$IP6_B" 9012 3
l=$(entry "$NS_B" wr "src=$IP6_A")
expect_eq "which then gets two packets in, not three" "$(fv "$l" admitted) $(fv "$l" over)" "3 1"
wr_expect "+KEY with the table's mask written" "$NS_B" m24 "+src=10.99.2.0/24" OK
wr_expect "+KEY of a host on a /24 table lands on its /24" "$NS_B" m24 "+10.99.2.77" OK
expect_eq "both on one entry" \
	"$(fv "$(entry "$NS_B" m24 "src=10.99.2.0/24")" admitted)" 2
wr_expect "+KEY with bits beyond the mask is EINVAL" "$NS_B" m24 "+10.99.2.77/24" EINVAL
wr_expect "+KEY of a srcip,dstip,dstport key in another order" "$NS_B" sdp \
	"+dport=53 dst=10.0.0.1 src=10.0.0.2" OK
expect_eq "lands as written" \
	"$(entry "$NS_B" sdp "src=10.0.0.2 dst=10.0.0.1 dport=53" | cut -d' ' -f1-3)" \
	"src=10.0.0.2 dst=10.0.0.1 dport=53"
wr_expect "+KEY of a port-only key" "$NS_B" dp "+dport=1 family=ipv6" OK
udp "$NS_A" "$IP4_B" 9002 10
wr_expect "/ flushes" "$NS_B" rate "/\\n" OK
expect_eq "only the header is left, entries 0" \
	"$(in_ns "$NS_B" cat "$D/rate" | wc -l) $(in_ns "$NS_B" head -n1 "$D/rate" | cut -d' ' -f5)" \
	"3 0/65536,"
udp "$NS_A" "$IP4_B" 9002 1
expect_eq "and the emptied bucket is full again: admitted" \
	"$(fv "$(entry "$NS_B" rate "src=$IP4_A")" admitted)" 1
show "$NS_B" wr

# ---- malformed writes ----

section "malformed writes: EINVAL, and the file stays the same"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9008 -m ratewin --ratewin-name fz \
	--ratewin-mode srcip,dstport --ratewin-srcmask 24 --ratewin-window 5/1h \
	-j DROP || ksft_exit_fail "rule fz"
udp "$NS_A" "$IP4_B" 9008 3
for k in "src=192.0.2.0/24 dport=22" "src=2001:db8::1 dport=443" \
	"dport=0 src=198.51.100.0"; do
	wr_expect "+KEY $k" "$NS_B" fz "+$k" OK
done
before=$(in_ns "$NS_B" cat "$D/fz" | strip_time)
res=$(in_ns "$NS_B" python3 - "$D/fz" <<'EOF'
import errno, os, random, sys

rnd = random.Random(20)
valid4 = ["192.0.2.0", "10.99.1.0", "198.51.100.0", "0.0.0.0"]
valid6 = ["2001:db8::1", "::1", "fd00:99:1::1", "::ffff:1.2.3.4"]
bad_addr = ["256.1.2.3", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "1.2.3.",
            ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1",
            "::1.2.3", "1.2.3.4::", "", "-1.2.3.4", "0x1.2.3.4", "[::1]",
            "::1%eth0", "localhost", "1.2.3.4 ", "1:2:3:4:5:6:7"]
cmds = []

def key(a=None, p=None):
    a = a if a is not None else rnd.choice(valid4 + valid6)
    p = p if p is not None else str(rnd.randrange(65536))
    f = ["src=" + a, "dport=" + p]
    rnd.shuffle(f)
    return " ".join(f)

for i in range(60):
    # overlong
    cmds.append(("+" + key() + "x" * rnd.randrange(257, 900)).encode())
    # a NUL byte, or a byte no command has, anywhere
    c = bytearray(("-" + key()).encode())
    c.insert(rnd.randrange(len(c) + 1), 0)
    cmds.append(bytes(c))
    c = bytearray(("+" + key()).encode())
    c.insert(rnd.randrange(len(c)), rnd.choice(list(range(1, 10)) +
             list(range(11, 32)) + list(range(127, 256))))
    cmds.append(bytes(c))
    # random binary with at least one byte no command has
    c = bytearray(os.urandom(rnd.randrange(1, 200)))
    c[rnd.randrange(len(c))] = rnd.randrange(128, 256)
    cmds.append(bytes(c))
    # half keys and bare addresses where the key has a port
    cmds.append(("-src=" + rnd.choice(valid4 + valid6)).encode())
    cmds.append(("+dport=" + str(rnd.randrange(65536))).encode())
    cmds.append(("-" + rnd.choice(valid4 + valid6)).encode())
    # extra, repeated and unknown fields
    cmds.append(("+" + key() + " " + rnd.choice(
        ["sport=1", "dst=10.0.0.1", "family=ipv4", "family=ipv6",
         "src=10.0.0.0", "dport=2", "proto=17", "x=1", "src", "="])).encode())
    cmds.append(("-" + key().replace("dport", rnd.choice(
        ["port", "dp", "DPORT", "dport ", "sport", "dst", "d port"]))).encode())
    # bad port values
    cmds.append(("+" + key(p=rnd.choice(
        ["65536", "99999", "100000", "-1", "+1", "0x16", "", "1e3", "22 ",
         "２２", "22.0", str(rnd.randrange(65536, 10**9))]))).encode())
    # bad addresses
    cmds.append(("-" + key(a=rnd.choice(bad_addr))).encode())
    # wrong family for the mask, other prefix lengths, bits beyond the prefix
    cmds.append(("+" + key(a="192.0.2.0/" + str(rnd.choice(
        [n for n in range(0, 40) if n != 24])))).encode())
    cmds.append(("+" + key(a="2001:db8::/" + str(rnd.choice(
        [n for n in range(0, 140) if n != 128])))).encode())
    cmds.append(("-" + key(a="192.0.2.%d/24" % rnd.randrange(1, 256))).encode())
    cmds.append(("-" + key(a="192.0.2.0/024")).encode())
    cmds.append(("-" + key(a="2001:db8::1/64")).encode())
    # wrong operators and framing
    op = rnd.choice(["", "*", "=", " ", "x", "--", "+-", "-+", "/", "\n"])
    cmds.append((op + key()).encode())
    cmds.append(("-" + key() + rnd.choice(["\n\n", "\r\n", " \n", " ", "\t",
                                            "\n "])).encode())
    cmds.append(("+" + key().replace(" ", rnd.choice(["  ", "\t", ",", ";",
                                                       ""]))).encode())
    cmds.append(rnd.choice([b"", b"\n", b"//", b"/ ", b" /", b"/x", b"/\n\n",
                            b"/\r\n", b"\n/", b"-", b"+", b"-\n", b"+ "]))

fd = os.open(sys.argv[1], os.O_WRONLY)
einval = 0
bad = []
for c in cmds:
    try:
        os.write(fd, c)
        bad.append((c, "accepted"))
    except OSError as e:
        if e.errno == errno.EINVAL:
            einval += 1
        else:
            bad.append((c, errno.errorcode[e.errno]))
print(len(cmds), einval)
for c, what in bad[:10]:
    print("#   %r: %s" % (c, what))
EOF
)
set -- $res
fcheck "at least 1000 malformed writes ($1)" "n >= 1000" -v n="${1:-0}"
expect_eq "every one of them EINVAL" "${2:-x}" "${1:-y}"
[ "$1" = "$2" ] || echo "$res" | sed 1d
after=$(in_ns "$NS_B" cat "$D/fz" | strip_time)
expect_eq "the file is byte-identical (time fields aside)" "$after" "$before"
expect_eq "and still has the 4 entries" "$(grep -c '^src=' <<< "$after")" 4
show "$NS_B" fz

# ---- formats ----

tf=$(in_ns "$NS_B" sh -c "cat $D/*" | grep -v '^#' | tr ' ' '\n' |
	grep -E '^(last|next|ban)=')
n=$(grep -c . <<< "$tf")
# at least last= and next= of the fz table's four entries (a 1 h window)
fcheck "the tables show time fields ($n fields)" "n >= 8" -v n="$n"
expect_eq "every time field of every table is seconds with milliseconds, or 0s ($n fields)" \
	"$(grep -vE '^[a-z]+=([0-9]+\.[0-9]{3}|0)s$' <<< "$tf" | grep -c .)" 0
# A fresh entry in each bucket table: a slow kernel may have reclaimed the
# earlier ones as idle (a full bucket) by now.
udp "$NS_A" "$IP4_B" 9002 1
udp "$NS_A" "$IP4_B" 9007 1
wait_for 60 entry "$NS_B" rate "src=$IP4_A"
wait_for 60 entry "$NS_B" bytes "src=$IP4_A"
tf=$(in_ns "$NS_B" sh -c "cat $D/*" | grep -v '^#' | tr ' ' '\n' | grep -E '^tokens=')
n=$(grep -c . <<< "$tf")
fcheck "the rate and bytes tables show tokens fields ($n fields)" "n >= 2" -v n="$n"
expect_eq "every tokens field has one decimal ($n fields)" \
	"$(grep -vE '^tokens=[0-9]+\.[0-9]/[0-9]+$' <<< "$tf" | grep -c .)" 0

# ---- who may read and write ----

section "permissions"
check_fail "nobody cannot read" in_ns "$NS_B" setpriv --reuid=65534 --regid=65534 \
	--clear-groups cat "$D/win"
check_fail "nobody cannot write" in_ns "$NS_B" setpriv --reuid=65534 --regid=65534 \
	--clear-groups sh -c "echo / > $D/win"
r=$(in_ns "$NS_B" setpriv --bounding-set=-net_admin python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, b"/")
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
' "$D/win" 2>&1)
expect_eq "root without CAP_NET_ADMIN: EPERM" "$r" EPERM
r=$(in_ns "$NS_B" bash -c "exec 3> $D/conn; setpriv --bounding-set=-net_admin \
	python3 -c '
import os
os.write(3, b\"/\")
print(\"OK\")' 2>&1")
expect_eq "a file opened with CAP_NET_ADMIN may be written after dropping it (opener's credentials)" \
	"$r" OK
echo 0644 > /sys/module/xt_ratewin/parameters/proc_perms
echo 65534 > /sys/module/xt_ratewin/parameters/proc_gid
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9009 -m ratewin --ratewin-name perm \
	--ratewin-window 1/1s -j DROP
echo 0600 > /sys/module/xt_ratewin/parameters/proc_perms
echo 0 > /sys/module/xt_ratewin/parameters/proc_gid
expect_eq "proc_perms and proc_gid apply to new files" \
	"$(in_ns "$NS_B" stat -c '%a %u %g' "$D/perm")" "644 0 65534"
check "with proc_perms 0644 nobody can read" in_ns "$NS_B" setpriv --reuid=65534 \
	--regid=65534 --clear-groups cat "$D/perm"
check_fail "but still not write" in_ns "$NS_B" setpriv --reuid=65534 \
	--regid=65534 --clear-groups sh -c "echo / > $D/perm"
expect_eq "older files keep their mode" "$(in_ns "$NS_B" stat -c '%a' "$D/win")" 600

# ---- namespaces ----

section "namespaces"
setup_ns NS_C || ksft_exit_fail "namespace C"
in_ns "$NS_C" $IPT -A INPUT -p udp --dport 9001 -m ratewin --ratewin-name other \
	--ratewin-window 5/1m -j DROP
in_ns "$NS_C" $IPT -A INPUT -p udp --dport 9001 -m ratewin --ratewin-name win \
	--ratewin-rate 1/s -j DROP
expect_eq "a second namespace sees only its own tables" \
	"$(in_ns "$NS_C" ls "$D" | xargs)" "other win"
check_fail "and the first does not see them" in_ns "$NS_B" test -e "$D/other"
expect_eq "the same name is another table there" \
	"$(in_ns "$NS_C" head -n1 "$D/win")" \
	"# table win: entries 0/65536, limits rate 1/second burst 5"
check "the init namespace has its own directory" test -d "$D"
check_fail "and none of these tables" test -e "$D/win"

# A file held open by a process outside the namespace while the namespace
# goes: the rules outlive the netns exit handler, the file does not.
ip netns exec "$NS_C" sleep 600 &
spid=$!
wait_for 60 test -e "/proc/$spid/net/xt_ratewin/win"
exec 7< "/proc/$spid/net/xt_ratewin/win"
check "read through an open file of another namespace" head -c 20 <&7
kill "$spid"
wait "$spid" 2> /dev/null
ip netns del "$NS_C"
# The namespace is torn down by a work queue after "ip netns del": poll
# (one process, at most 90 s) until the open file stops reading.
r=$(python3 -c 'import os, time
end = time.monotonic() + 90
while True:
    try:
        os.read(7, 100)
        r = "read"
    except OSError as e:
        r = os.strerror(e.errno)
    if r != "read" or time.monotonic() > end:
        break
    time.sleep(0.1)
print(r)' 2>&1)
expect_eq "after the namespace exits, the open file reads as gone" "$r" \
	"Input/output error"
exec 7<&-

# Rule deleted while its file is open: the file goes with the table.
coproc RD { in_ns "$NS_B" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(len(os.read(fd, 30)), flush=True)
sys.stdin.readline()
try:
    os.read(fd, 100)
    print("read", flush=True)
except OSError as e:
    print(os.strerror(e.errno), flush=True)
' "$D/ban" 2>&1; }
read -r -t 60 r <&"${RD[0]}"
expect_eq "file of the ban table open and read" "$r" 30
in_ns "$NS_B" $IPT -D INPUT -p udp --dport 9003 -m ratewin --ratewin-name ban \
	--ratewin-window 2/1m --ratewin-count-all --ratewin-ban 10m -j DROP
check_fail "a deleted table's file is gone" in_ns "$NS_B" test -e "$D/ban"
echo go >&"${RD[1]}"
read -r -t 60 r <&"${RD[0]}"
expect_eq "an open file of a deleted table reads as gone" "$r" "Input/output error"
wait "$RD_PID" 2> /dev/null
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9003 -m ratewin --ratewin-name ban \
	--ratewin-window 2/1m -j DROP
expect_eq "the name is free again at once: a new, empty table" \
	"$(in_ns "$NS_B" head -n1 "$D/ban")" \
	"# table ban: entries 0/65536, limits window 2/1m"

section "add and delete a table in a loop while reading it"
# add and delete rules of one name in a loop while another process reads
in_ns "$NS_B" bash -c "
end=\$((SECONDS + 4))
while [ \$SECONDS -lt \$end ]; do cat $D/churn > /dev/null 2>&1; done" &
rpid=$!
errs=0
for _ in $(seq 20); do
	in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9010 -m ratewin --ratewin-name churn \
		--ratewin-window 1/1s -j DROP || errs=$((errs + 1))
	in_ns "$NS_B" $IPT -D INPUT -p udp --dport 9010 -m ratewin --ratewin-name churn \
		--ratewin-window 1/1s -j DROP || errs=$((errs + 1))
done
wait "$rpid"
expect_eq "20 times add and delete a table while it is read: no error" "$errs" 0
check_fail "and no file left behind" in_ns "$NS_B" test -e "$D/churn"

section "a user namespace"
# a user namespace's root owns its files
if setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n true 2> /dev/null; then
	r=$(setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n bash -c "
		ip link set lo up
		iptables -A INPUT -p udp -m ratewin --ratewin-name userns \
			--ratewin-window 3/1m -j DROP 2>&1 || exit 1
		for i in 1 2 3 4; do echo x > /dev/udp/127.0.0.1/9; done 2> /dev/null
		stat -c '%a %u %g' $D/userns
		sed -n 4p $D/userns | cut -d' ' -f1,3,5-
		echo / > $D/userns && echo flushed
		sed -n 4p $D/userns | wc -c
		ls $D
		sleep 600 > /dev/null 2>&1 < /dev/null &
		echo pid \$!
		sleep 0.5
	" 2>&1)
	info "${r//$'\n'/ | }"
	expect_eq "in the user namespace, its root owns the file" \
		"$(sed -n 1p <<< "$r")" "600 0 0"
	expect_eq "and reads it" "$(sed -n 2p <<< "$r")" \
		"src=127.0.0.1 window=3/3 admitted=3 over=1"
	expect_eq "and writes it" "$(sed -n 3,4p <<< "$r" | xargs)" "flushed 0"
	expect_eq "and sees only its own table" "$(sed -n 5p <<< "$r")" userns
	upid=$(sed -n 's/^pid //p' <<< "$r")
	if [ -n "$upid" ] && [ -e "/proc/$upid/net/xt_ratewin/userns" ]; then
		expect_eq "seen from outside, nobody (its root) owns it" \
			"$(stat -c '%u %g' "/proc/$upid/net/xt_ratewin/userns")" "65534 65534"
		kill "$upid"
	else
		fail "user namespace still there to look at from outside"
	fi
else
	skip "user namespace owns its files" "no unprivileged user namespaces"
fi

# ---- a big table read in small pieces ----

section "3000 entries read 97 bytes at a time"
in_ns "$NS_B" $IPT -A INPUT -p udp --dport 9011 -m ratewin --ratewin-name big \
	--ratewin-window 5/1h -j DROP || ksft_exit_fail "rule big"
r=$(in_ns "$NS_B" python3 - "$D/big" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for i in range(3000):
    os.write(fd, b"+10.50.%d.%d\n" % (i // 250, i % 250 + 1))
os.close(fd)
whole = open(sys.argv[1], "rb").read()
buf = b""
with open(sys.argv[1], "rb", buffering=0) as f:
    while True:
        c = f.read(97)
        if not c:
            break
        buf += c
keys = [l.split(b" ")[0] for l in buf.split(b"\n") if l.startswith(b"src=")]
wkeys = [l.split(b" ")[0] for l in whole.split(b"\n") if l.startswith(b"src=")]
print(len(keys), len(set(keys)), len(wkeys), len(set(wkeys)),
      int(sorted(keys) == sorted(wkeys)))
EOF
)
expect_eq "3000 +KEY writes; read in 97-byte pieces and whole: every entry once, the same set" \
	"$r" "3000 3000 3000 3000 1"
expect_eq "header counts them" "$(in_ns "$NS_B" head -n1 "$D/big" | cut -d' ' -f5)" \
	"3000/65536,"
r=$(in_ns "$NS_B" dd if="$D/big" bs=1 skip=100000 count=200 status=none | wc -c)
expect_eq "reading from an offset (lseek) works" "$r" 200
wr_expect "flush a big table" "$NS_B" big "/" OK
expect_eq "empty: the three header lines" "$(in_ns "$NS_B" cat "$D/big" | wc -l)" 3

# ---- read and flush during a flood ----

section "read and flush on CPU 0 while CPU 1 floods the table from many sources"
setup_ns NS_F || ksft_exit_fail "namespace F"
flood_ok=0
if modprobe pktgen 2> /dev/null && [ "$(nproc)" -ge 2 ]; then
	in_ns "$NS_F" ip link add dum0 type dummy &&
	in_ns "$NS_F" ip link set dum0 up &&
	in_ns "$NS_F" ip addr add 10.210.0.1/24 dev dum0 &&
	in_ns "$NS_F" $IPT -t raw -A PREROUTING -i dum0 -m ratewin --ratewin-name flood \
		--ratewin-window 3/1s --ratewin-rate 2/s --ratewin-htable-max 20000 \
		--ratewin-htable-expire 500 --ratewin-htable-gcinterval 100 -j DROP &&
	mac=$(in_ns "$NS_F" cat /sys/class/net/dum0/address) &&
	in_ns "$NS_F" sh -c "
		PG=/proc/net/pktgen
		echo rem_device_all > \$PG/kpktgend_1
		echo 'add_device dum0' > \$PG/kpktgend_1
		for c in 'count 0' 'pkt_size 60' 'xmit_mode netif_receive' \
			'dst 10.210.0.1' 'dst_mac $mac' 'src_min 10.201.0.1' \
			'src_max 10.201.255.254' 'flag IPSRC_RND' 'udp_dst_min 9' \
			'udp_dst_max 9'; do
			echo \"\$c\" > \$PG/dum0 || exit 1
		done" && flood_ok=1
fi
if [ $flood_ok = 1 ]; then
	in_ns "$NS_F" sh -c 'echo start > /proc/net/pktgen/pgctrl' 2> /dev/null &
	fpid=$!
	cleanup_add in_ns "$NS_F" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
	sleep 1
	r=$(in_ns "$NS_F" taskset -c 0 python3 - "$D/flood" <<'EOF'
import os, sys, time
path = sys.argv[1]
reads = flushes = errors = lines = maxent = 0
end = time.monotonic() + 10
while time.monotonic() < end:
    try:
        with open(path, "rb") as f:
            data = f.read()
        reads += 1
        n = data.count(b"\nsrc=")
        lines += n
        maxent = max(maxent, n)
        if not data.startswith(b"# table flood: entries "):
            errors += 1
        if reads % 3 == 0:
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, b"/\n")
            os.close(fd)
            flushes += 1
    except OSError as e:
        errors += 1
        print("# %s" % e)
print(reads, flushes, errors, lines, maxent)
EOF
)
	in_ns "$NS_F" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
	wait "$fpid" 2> /dev/null
	info "reads flushes errors entry-lines most-entries-in-a-read: $r"
	set -- $r
	fcheck "reads and flushes during the flood, no error ($r)" \
		"r >= 5 && f >= 1 && e == 0 && m > 0" -v r="${1:-0}" -v f="${2:-0}" \
		-v e="${3:-1}" -v m="${5:-0}"
	# quiet now: GC reclaims every entry, and the counters say so
	wait_for 60 sh -c "ip netns exec $NS_F head -n1 $D/flood | grep -q 'entries 0/'"
	in_ns "$NS_F" cat "$D/flood" > /tmp/flood.$$
	info "after the flood: $(head -n2 /tmp/flood.$$ | xargs)"
	expect_eq "after the flood, GC empties the table: no entry lines" \
		"$(grep -c '^src=' /tmp/flood.$$)" 0
	fcheck "and the header counts reclaimed entries and table-full events" \
		"r > 0 && f >= 0" \
		-v r="$(sed -n 's/.*reclaimed \([0-9]*\).*/\1/p' /tmp/flood.$$)" \
		-v f="$(sed -n 's/^# full \([0-9]*\),.*/\1/p' /tmp/flood.$$)"
	rm -f /tmp/flood.$$
else
	skip "read and flush during a flood" "no pktgen or one CPU"
fi

show "$NS_B" wr
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The SSH case side by side, run in the test VM by `make demo`
# (tests/demo/demo.sh boots it with tests/vm/run.sh --script).
#
# A client opens a new TCP connection every 200 ms for 15 s to each of three
# ports of a server, each guarded by one way of writing "at most 5 new
# connections per source in any 6 s" (the usual 5 per minute, scaled down
# tenfold): recent --update, hashlimit, and ratewin --ratewin-window 5/6s.
# It prints a timeline of what each admitted, a verdict per rule computed
# from what the client saw, and the ratewin table's /proc file. The text is
# printed as TAP comments ("# ..."), followed by test points that hold the
# verdicts to what the text claims.
# vm-timeout: 240
. "$XTRW_SRC/tests/selftests/lib.sh"

DEMO_SECS=15
DEMO_STEP_US=200000
# Client and kernel clocks differ by the time from the timestamp to the SYN;
# a "6 s span" is judged on the client's clock with this much slack.
DEMO_TOL_US=100000
PORT_RECENT=2201 PORT_HL=2202 PORT_RW=2203

say() { printf '# %s\n' "$*"; }
sayf() { local f=$1; shift; printf "# $f\n" "$@"; }

require_root
say "================================================================"
say " xt_ratewin demo: the SSH case"
say "================================================================"
say
say "The rule administrators want: at most 5 new SSH connections per"
say "source address in any minute, and a user who keeps retrying must not"
say "lock themselves out. Scaled down tenfold to fit in ${DEMO_SECS} s: at most 5"
say "in any 6 s."

command -v socat > /dev/null || ksft_exit_skip "socat is missing (make deps)"
have_plugin || ksft_exit_skip "plugin libxt_ratewin.so not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"
setup_veth_pair || ksft_exit_fail "cannot set up the client and server namespaces"
CLIENT=$IP4_A SERVER=$IP4_B

for p in $PORT_RECENT $PORT_HL $PORT_RW; do
	in_ns "$NS_B" socat "TCP-LISTEN:$p,fork,reuseaddr,backlog=256" SYSTEM:true \
		> /dev/null 2>&1 &
	cleanup_add kill $!
done

# The three rules in one go (one iptables process: the guest is emulated).
in_ns "$NS_B" iptables-restore -w --noflush <<EOF2 ||
*filter
-A INPUT -p tcp --syn --dport $PORT_RECENT -m recent --name ssh_recent --update --seconds 6 --hitcount 5 -j REJECT --reject-with tcp-reset
-A INPUT -p tcp --syn --dport $PORT_RECENT -m recent --name ssh_recent --set
-A INPUT -p tcp --syn --dport $PORT_HL -m hashlimit --hashlimit-name ssh_hl --hashlimit-mode srcip --hashlimit-above 50/minute --hashlimit-burst 5 -j REJECT --reject-with tcp-reset
-A INPUT -p tcp --syn --dport $PORT_RW -m ratewin --ratewin-name ssh --ratewin-window 5/6s -j REJECT --reject-with tcp-reset
COMMIT
EOF2
	ksft_exit_fail "cannot add the three rules"
T=$(mktemp -d)
cleanup_add rm -rf "$T"
in_ns "$NS_B" iptables -w -S INPUT > "$T/rules"

# The rules as the kernel has them, without the common part.
rule_text() {
	grep -- "--dport $1 " "$T/rules" |
		sed -e 's/^-A INPUT //' -e 's/-p tcp -m tcp --dport [0-9]* //' \
			-e 's/--tcp-flags FIN,SYN,RST,ACK SYN/--syn/' \
			-e 's/ --reject-with tcp-reset//' -e 's/ --mask 255.255.255.255//' \
			-e 's/ --rsource//' -e 's/ --hashlimit-htable-[a-z]* [0-9]*//g'
}
for p in $PORT_RECENT $PORT_HL $PORT_RW; do
	wait_for 10 bash -c "ip netns exec $NS_B ss -Hltn 'sport = :$p' | grep -q ." ||
		ksft_exit_fail "the server listens on port $p"
done

say
say "A client ($CLIENT) opens a new TCP connection every 200 ms for"
say "${DEMO_SECS} s to three ports of a server ($SERVER), each guarded by one"
say "way of writing that rule (a refused connection gets a TCP reset):"
say
for p in $PORT_RECENT $PORT_HL $PORT_RW; do
	case $p in
	"$PORT_RECENT") name=recent ;;
	"$PORT_HL") name=hashlimit ;;
	*) name=ratewin ;;
	esac
	say "  port $p, $name:"
	while read -r line; do
		# Wrapped before an option, never inside one.
		awk -v w=66 '{
			out = "      "; len = 0
			for (i = 1; i <= NF; i++) {
				g = $i
				while (i < NF && substr($(i + 1), 1, 1) != "-") g = g " " $(++i)
				if (len && len + 1 + length(g) > w) {
					print out; out = "          "; len = 4
				} else if (len) {
					out = out " "; len++
				}
				out = out g; len += length(g)
			}
			print out
		}' <<< "$line" | while IFS= read -r l; do say "$l"; done
	done < <(rule_text "$p")
done
say
say "Running for ${DEMO_SECS} s..."

# attempts IP SECONDS PORT...: every DEMO_STEP_US, a new connection to each
# PORT in turn, for SECONDS; prints "port microseconds-since-start 1|0"
# (connected or refused) per attempt. A tick that comes late (a slow
# emulated guest) starts the next interval from then: attempts are never
# closer than DEMO_STEP_US, and each carries the time it was really made.
attempts() {
	local ip=$1 secs=$2 t0 next now d sfd r frac p fd
	shift 2
	exec {sfd}<> <(:)
	t0=${EPOCHREALTIME/./}
	next=$t0
	while :; do
		now=${EPOCHREALTIME/./}
		d=$((next - now))
		if [ $d -gt 0 ]; then
			printf -v frac '%06d' $((d % 1000000))
			read -r -t "$((d / 1000000)).$frac" -u $sfd
		else
			next=$now
		fi
		[ $((next - t0)) -ge $((secs * 1000000)) ] && break
		for p in "$@"; do
			now=${EPOCHREALTIME/./}
			# In this shell, no fork: a slow guest keeps the pace.
			if exec {fd}<> "/dev/tcp/$ip/$p"; then
				exec {fd}>&-
				r=1
			else
				r=0
			fi
			echo "$p $((now - t0)) $r"
		done
		next=$((next + DEMO_STEP_US))
	done
}
export -f attempts
export DEMO_STEP_US

in_ns "$NS_A" bash -c 'attempts "$@"' _ "$SERVER" "$DEMO_SECS" \
	$PORT_RECENT $PORT_HL $PORT_RW > "$T/all" 2> /dev/null
for p in $PORT_RECENT $PORT_HL $PORT_RW; do
	awk -v p=$p '$1 == p { print $2, $3 }' "$T/all" > "$T/$p"
done

say
say "Timeline: one row per second, one mark per attempt:  # connected  . refused"
say
sayf '  %-8s %-11s %-11s %s' "second" "recent" "hashlimit" "ratewin"
awk -v secs="$DEMO_SECS" -v a="$PORT_RECENT" -v b="$PORT_HL" -v c="$PORT_RW" '
	{ s = int($2 / 1000000); m[$1, s] = m[$1, s] ($3 ? "#" : ".") }
	END {
		for (s = 0; s < secs; s++)
			printf "#   %4d     %-11s %-11s %s\n", s, m[a, s], m[b, s], m[c, s]
	}' "$T/all"

# stats FILE: prints "admitted total prefix late maxspan runs"
#   prefix:  attempts admitted before the first refusal
#   late:    admitted after the first refusal
#   maxspan: most admitted within any 6 s span (client clock, less
#            DEMO_TOL_US for the way from the client's clock to the SYN)
#   runs:    admissions grouped where they follow each other within 1.5 s,
#            as COUNT@SECOND,... (e.g. 5@0,5@6,5@12)
stats() {
	awk -v tol="$DEMO_TOL_US" '
		{ n++; if ($2) { t[++a] = $1; if (!refused) prefix++ } else refused = 1 }
		END {
			late = a - prefix
			max = 0
			for (i = 1; i <= a; i++) {
				c = 0
				for (j = i; j <= a && t[j] - t[i] < 6000000 - tol; j++) c++
				if (c > max) max = c
			}
			runs = ""; c = 0
			for (i = 1; i <= a; i++) {
				if (i > 1 && t[i] - t[i - 1] > 1500000) {
					runs = runs (runs == "" ? "" : ",") c "@" int(s / 1000000)
					c = 0
				}
				if (c == 0) s = t[i]
				c++
			}
			if (c) runs = runs (runs == "" ? "" : ",") c "@" int(s / 1000000)
			printf "%d %d %d %d %d %s\n", a, n, prefix, late, max, runs == "" ? "-" : runs
		}' "$1"
}
# "5@0,1@1,1@2" -> "5 at 0 s, 1 at 1 s, 1 at 2 s"
runs_text() { sed -e 's/\([0-9]*\)@\([0-9]*\)/\1 at \2 s/g' -e 's/,/, /g' <<< "$1"; }
read -r rc_a rc_n rc_prefix rc_late rc_max rc_runs < <(stats "$T/$PORT_RECENT")
read -r hl_a hl_n hl_prefix hl_late hl_max hl_runs < <(stats "$T/$PORT_HL")
read -r rw_a rw_n rw_prefix rw_late rw_max rw_runs < <(stats "$T/$PORT_RW")
sayf '  %-8s %-11s %-11s %s' "admitted" "$rc_a of $rc_n" "$hl_a of $hl_n" "$rw_a of $rw_n"

say
say "Verdicts (from what the client saw):"
say
if [ "$rc_late" = 0 ] && [ "$rc_a" -lt "$rc_n" ]; then
	sayf '  recent     admitted the first %d attempts, then refused all %d retries:' \
		"$rc_a" $((rc_n - rc_a))
	say "             every refused retry counts as a new hit, so a client that"
	say "             keeps retrying stays locked out for as long as it retries."
else
	sayf '  recent     admitted %d of %d: %s.' "$rc_a" "$rc_n" "$(runs_text "$rc_runs")"
fi
sayf '  hashlimit  admitted %d: a burst of %d, then a trickle of one about every' \
	"$hl_a" "$hl_prefix"
if [ "$hl_late" -gt 1 ]; then
	gap=$(awk -v p="$hl_prefix" '$2 { if (++a == p + 1) f = $1; l = $1 }
		END { printf "%.1f", (l - f) / (a - p - 1) / 1000000 }' "$T/$PORT_HL")
else
	gap="?"
fi
if [ "$hl_max" -gt 5 ]; then
	sayf '             %s s; %d within one 6 s span. A token bucket is a rate:' "$gap" "$hl_max"
	say "             it is not \"at most 5 in any 6 s\"."
else
	sayf '             %s s; at most %d within any 6 s span.' "$gap" "$hl_max"
fi
sayf '  ratewin    admitted %d: %s;' "$rw_a" "$(runs_text "$rw_runs")"
if [ "$rw_max" -le 5 ]; then
	say "             never more than 5 in any 6 s span, and the retrying client"
	say "             got back in each time the window had room: the rule as written."
else
	sayf '             %d within one 6 s span: MORE than the window allows.' "$rw_max"
fi

say
say "What ratewin knows about the client now:"
say
say "  \$ cat /proc/net/xt_ratewin/ssh"
proc_ok=0
if in_ns "$NS_B" cat /proc/net/xt_ratewin/ssh > "$T/proc" 2> /dev/null && [ -s "$T/proc" ]; then
	proc_ok=1
	while IFS= read -r line; do say "  $line"; done < "$T/proc"
	say
	say "  (window=n/N: admitted in the last 6 s; next: until it admits again;"
	say "   admitted/over: totals. See man xt_ratewin, \"THE /PROC FILE\".)"
else
	say "  (no /proc/net/xt_ratewin/ssh in this build of the module)"
fi
say

# The claims above, as test points.
if [ "$rc_late" = 0 ] && [ "$rc_a" = 5 ]; then
	ok "recent admitted the first 5 attempts and locked the retrying client out"
else
	fail "recent admitted the first 5 attempts and locked the retrying client out ($rc_a, $rc_late late)"
fi
if [ "$hl_max" -gt 5 ]; then
	ok "hashlimit admitted more than 5 in a 6 s span ($hl_max)"
else
	fail "hashlimit admitted more than 5 in a 6 s span ($hl_max)"
fi
if [ "$rw_max" -le 5 ]; then
	ok "ratewin admitted at most 5 in any 6 s span ($rw_max)"
else
	fail "ratewin admitted at most 5 in any 6 s span ($rw_max)"
fi
# Three runs of 5 (at 0, 6 and 12 s) when the guest keeps pace; a slow
# guest may split a run, never add to it.
if [ "$rw_a" -ge 13 ] && [ "$rw_a" -le 15 ]; then
	ok "ratewin let the retrying client back in every 6 s ($(runs_text "$rw_runs"))"
else
	fail "ratewin let the retrying client back in every 6 s ($rw_a admitted: $(runs_text "$rw_runs"); want 13..15)"
fi
if [ $proc_ok = 1 ]; then
	check "/proc/net/xt_ratewin/ssh shows the client" grep -q "src=$CLIENT" "$T/proc"
else
	skip "/proc/net/xt_ratewin/ssh shows the client" "no /proc file in this build"
fi
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The iptables plugin: every line of userspace/libxt_ratewin.t on iptables
# and ip6tables, nft and legacy backends; iptables-save -> iptables-restore
# round trips over a matrix of option combinations; invalid command lines
# exit with status 2 and leave no rule; --help and -L.
# vm-timeout: 900

# Everything runs in a network namespace of its own, so nothing of the
# guest's ruleset is touched and each backend starts empty; entered once
# here, as "ip netns exec" per command costs too much under TCG.
if [ -z "${XTRW_PLUGIN_NETNS:-}" ] && command -v unshare > /dev/null; then
	XTRW_PLUGIN_NETNS=1 exec unshare --net -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ -n "${XTRW_PLUGIN_NETNS:-}" ] || ksft_exit_skip "no unshare to make a network namespace"

require_root
checktool "iptables --version" "run without iptables"
have_plugin || ksft_exit_skip "plugin libxt_ratewin.so not built"
load_ratewin || ksft_exit_skip "cannot load xt_ratewin"

TFILE=$XTRW_SRC/userspace/libxt_ratewin.t
[ -r "$TFILE" ] || ksft_exit_fail "no $TFILE"

TMP=$(mktemp -d)
cleanup_add rm -rf "$TMP"

# The commands under test: iptables is the nf_tables backend.
BACKENDS4=$(for c in iptables iptables-legacy; do command -v "$c" > /dev/null && echo "$c"; done)
BACKENDS6=$(for c in ip6tables ip6tables-legacy; do command -v "$c" > /dev/null && echo "$c"; done)

# ipt CMD ARGS...: run an iptables command (in the suite's namespace).
ipt() {
	local c=$1
	shift
	"$c" -w "$@"
}

# restore_cmd / save_cmd of a backend command: iptables-legacy ->
# iptables-legacy-restore, ip6tables -> ip6tables-restore.
restore_cmd() { echo "$1-restore"; }
# restore_file RESTORE FILE [OPTIONS]: the file on standard input (the
# restore commands' -w differs between backends and can swallow a file name
# as its argument, so it is not used).
restore_file() {
	local cmd=$1 file=$2
	shift 2
	"$cmd" "$@" < "$file"
}
save_cmd() { echo "$1-save"; }

# The filter table's rules ("-A ..." lines) as iptables -S prints them.
rules_of() { ipt "$1" -S | grep '^-A ' || true; }

# flush_all IPT: empty the filter table of the namespace.
flush_all() { ipt "$1" -F > /dev/null 2>&1; true; }

# ---------------------------------------------------------------------------
# 1. libxt_ratewin.t on every backend
#
# Format (as iptables' extensions/*.t): ":CHAIN,CHAIN" sets the chains;
# "RULE;SAVE;OK|FAIL[;4|6]" where SAVE is "=" (the rule itself) or the form
# iptables -S prints. OK: the rule must be added to each chain, listed as
# exactly "-A CHAIN SAVE", and deleted again by the same rule. FAIL: the
# plugin must refuse it with exit status 2 and nothing may be added.
#
# Under TCG every iptables process costs a good fraction of a second, so the
# OK lines of a backend go in with one iptables-restore (-A lines) and out
# with another (-D lines), with one listing between; only when that batch
# fails are they added one by one to find the culprit. FAIL lines are run
# one by one (in the first chain of their set: the plugin refuses them
# before any chain matters).
# ---------------------------------------------------------------------------

# parse_tfile FAM: fill T_NO T_RULE T_SAVE T_RES T_CHAINS for that family.
parse_tfile() {
	local fam=$1 lineno=0 line rule save res lfam chains=INPUT
	T_NO=() T_RULE=() T_SAVE=() T_RES=() T_CHAINS=()
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		case $line in
		'' | '#'*) continue ;;
		:*)
			chains=${line#:}
			continue
			;;
		esac
		IFS=';' read -r rule save res lfam <<< "$line"
		[ -n "$lfam" ] && [ "$lfam" != "$fam" ] && continue
		[ "$save" = "=" ] && save=$rule
		T_NO+=("$lineno") T_RULE+=("$rule") T_SAVE+=("$save")
		T_RES+=("$res") T_CHAINS+=("${chains//,/ }")
	done < "$TFILE"
}

# add_one IPT I: add .t entry I to each of its chains with iptables -A,
# check the listing, delete it again. Prints why it failed, if it did.
add_one() {
	local ipt=$1 i=$2 chain out rc got
	for chain in ${T_CHAINS[i]}; do
		out=$(eval "ipt $ipt -A $chain ${T_RULE[i]}" 2>&1) ||
			{ echo "$chain: add failed: $out"; return 1; }
		got=$(rules_of "$ipt")
		if [ "$got" != "-A $chain ${T_SAVE[i]}" ]; then
			echo "$chain: listed as [$got], want [-A $chain ${T_SAVE[i]}]"
			flush_all "$ipt"
			return 1
		fi
		out=$(eval "ipt $ipt -D $chain ${T_RULE[i]}" 2>&1) ||
			{ echo "$chain: delete by rule failed: $out"; flush_all "$ipt"; return 1; }
	done
}

run_tfile() {
	local ipt=$1 fam=$2 i n chain out rc why nok=0 nfail=0
	local restore
	restore=$(restore_cmd "$ipt")

	parse_tfile "$fam"
	n=${#T_NO[@]}
	flush_all "$ipt"

	# OK lines: one restore adds them all, chain by chain; want is what
	# iptables -S must list then.
	echo "*filter" > "$TMP/ok.$ipt"
	: > "$TMP/want.$ipt"
	for chain in INPUT FORWARD OUTPUT; do
		for ((i = 0; i < n; i++)); do
			[ "${T_RES[i]}" = OK ] || continue
			[[ " ${T_CHAINS[i]} " == *" $chain "* ]] || continue
			echo "-A $chain ${T_RULE[i]}" >> "$TMP/ok.$ipt"
			echo "-A $chain ${T_SAVE[i]}" >> "$TMP/want.$ipt"
		done
	done
	echo "COMMIT" >> "$TMP/ok.$ipt"
	sed -e 's/^-A /-D /' "$TMP/ok.$ipt" > "$TMP/del.$ipt"
	if out=$(restore_file "$restore" "$TMP/ok.$ipt" --noflush 2>&1); then
		rules_of "$ipt" > "$TMP/got.$ipt"
		if ! out=$(restore_file "$restore" "$TMP/del.$ipt" --noflush 2>&1); then
			fail "$ipt: every OK rule deletes by its own specification"
			echo "$out" | sed 's/^/#   /' | head -5
		elif [ -n "$(rules_of "$ipt")" ]; then
			fail "$ipt: every OK rule deletes by its own specification"
			rules_of "$ipt" | sed 's/^/#   left: /' | head -5
		else
			ok "$ipt: every OK rule deletes by its own specification"
		fi
		flush_all "$ipt"
		local -A listed=()
		local l
		while IFS= read -r l; do
			listed[$l]=1
		done < "$TMP/got.$ipt"
		for ((i = 0; i < n; i++)); do
			[ "${T_RES[i]}" = OK ] || continue
			why=
			for chain in ${T_CHAINS[i]}; do
				[ -n "${listed["-A $chain ${T_SAVE[i]}"]:-}" ] ||
					why+=" not listed as [-A $chain ${T_SAVE[i]}]"
			done
			if [ -z "$why" ]; then
				ok "$ipt: .t line ${T_NO[i]} OK: ${T_RULE[i]}"
				nok=$((nok + 1))
			else
				fail "$ipt: .t line ${T_NO[i]} OK: ${T_RULE[i]}"
				echo "#  $why"
			fi
		done
		# the listing holds nothing else, in .t order within each chain
		check "$ipt: the listing is exactly the OK lines' save forms" \
			diff -u "$TMP/want.$ipt" "$TMP/got.$ipt"
	else
		fail "$ipt: restore of every OK line of the .t file"
		echo "$out" | sed 's/^/#   /' | head -5
		flush_all "$ipt"
		for ((i = 0; i < n; i++)); do
			[ "${T_RES[i]}" = OK ] || continue
			if why=$(add_one "$ipt" "$i"); then
				ok "$ipt: .t line ${T_NO[i]} OK: ${T_RULE[i]}"
				nok=$((nok + 1))
			else
				fail "$ipt: .t line ${T_NO[i]} OK: ${T_RULE[i]}"
				echo "$why" | head -5 | sed 's/^/#   /'
			fi
		done
	fi

	# FAIL lines: each refused by the plugin, exit status 2. (No command
	# substitution here: every fork counts under TCG.)
	for ((i = 0; i < n; i++)); do
		[ "${T_RES[i]}" = FAIL ] || continue
		chain=${T_CHAINS[i]%% *}
		eval "ipt $ipt -A $chain ${T_RULE[i]}" > "$TMP/out" 2>&1
		rc=$?
		if [ $rc -eq 2 ]; then
			ok "$ipt: .t line ${T_NO[i]} FAIL: ${T_RULE[i]}"
			nfail=$((nfail + 1))
		else
			fail "$ipt: .t line ${T_NO[i]} FAIL: ${T_RULE[i]}"
			echo "#   exit $rc, want 2:"
			sed 's/^/#   /' "$TMP/out" | head -3
		fi
	done
	check "$ipt: no FAIL line left a rule" test -z "$(rules_of "$ipt")"
	flush_all "$ipt"
	info "$ipt: $nok OK lines and $nfail FAIL lines passed"
}

SECONDS=0
for ipt in $BACKENDS4; do
	run_tfile "$ipt" 4
done
for ipt in $BACKENDS6; do
	run_tfile "$ipt" 6
done

# ---------------------------------------------------------------------------
# 2. iptables-save -> iptables-restore -> iptables-save is byte-identical
# over a matrix of option combinations, in canonical form (so the first save
# must also give back exactly the rules restored), and a rule set saved by
# one backend restores identically into the other.
# ---------------------------------------------------------------------------

# matrix FAM: canonical "-A CHAIN -m ratewin ..." lines covering every
# option and every value form, combined so that each rule mixes several.
matrix() {
	local fam=$1 max=32 i n
	local modes=(srcip dstip srcport dstport srcip,dstip srcip,srcport
		srcip,dstport dstip,srcport dstip,dstport srcport,dstport
		srcip,dstip,srcport srcip,dstip,dstport srcip,srcport,dstport
		dstip,srcport,dstport srcip,dstip,srcport,dstport)
	local rates=("" 10/second 50/minute 1/hour 1/day 3/10s 3/1500ms
		1000000000/second 512kb/s 1mb/s 1000b/s 4096mb/s)
	local bursts=("" 1 60 2147483648)
	local bbursts=("" 1500 64kb 3mb 2047mb)
	local windows=("" 5/1m 100/250ms 33/90s 1/1ms 10000000/30d 7/25h)
	local bans=("" 10m 1500ms 30d 2h)
	local conns=("" 1 20 1073741824)
	local chains=(INPUT FORWARD OUTPUT)
	[ "$fam" = 6 ] && max=128
	local masks=(0 8 24 "$max" 31)
	[ "$fam" = 6 ] && masks=(0 48 64 128 127)

	for ((i = 0; i < 120; i++)); do
		local r="-A ${chains[i % 3]} -m ratewin --ratewin-name m${fam}_$i"
		local mode=srcip rate win ban conn sm dm
		((i % 4)) && mode=${modes[i % ${#modes[@]}]}
		[ "$mode" != srcip ] && r+=" --ratewin-mode $mode"
		sm=${masks[i % ${#masks[@]}]}
		dm=${masks[(i / 2) % ${#masks[@]}]}
		[[ ,$mode, == *,srcip,* ]] && [ "$sm" != "$max" ] && r+=" --ratewin-srcmask $sm"
		[[ ,$mode, == *,dstip,* ]] && [ "$dm" != "$max" ] && r+=" --ratewin-dstmask $dm"
		rate=${rates[i % ${#rates[@]}]}
		win=${windows[(i / 3) % ${#windows[@]}]}
		conn=${conns[(i / 5) % ${#conns[@]}]}
		# at least one limit
		[ -z "$rate$win$conn" ] && win=5/1m
		if [ -n "$rate" ]; then
			r+=" --ratewin-rate $rate"
			if [[ $rate == *b/s ]]; then
				n=${bbursts[(i / 2) % ${#bbursts[@]}]}
			else
				n=${bursts[(i / 2) % ${#bursts[@]}]}
			fi
			[ -n "$n" ] && r+=" --ratewin-burst $n"
		fi
		[ -n "$win" ] && r+=" --ratewin-window $win"
		[ -n "$conn" ] && r+=" --ratewin-conn-above $conn"
		[ -n "$win" ] && ((i % 3 == 1)) && r+=" --ratewin-count-all"
		ban=${bans[(i / 4) % ${#bans[@]}]}
		[ -n "$ban" ] && r+=" --ratewin-ban $ban"
		((i % 5 == 2)) && r+=" --ratewin-upto"
		((i % 6 == 3)) && r+=" --ratewin-full under"
		((i % 7 == 4)) && r+=" --ratewin-htable-size $((1 << (i % 13)))"
		((i % 8 == 5)) && r+=" --ratewin-htable-max $((i * 1000 + 1))"
		((i % 9 == 6)) && r+=" --ratewin-htable-expire $((i * 777 + 1))"
		((i % 10 == 7)) && r+=" --ratewin-htable-gcinterval $((i * 13 + 10))"
		case $((i % 4)) in
		1) r+=" -j DROP" ;;
		2) r+=" -j ACCEPT" ;;
		esac
		echo "$r"
	done
}

# The parts of an iptables-save output that must match: no comments (they
# hold timestamps).
save_body() { grep -v '^#' "$1"; }

round_trip() {
	local ipt=$1 fam=$2 restore save
	restore=$(restore_cmd "$ipt")
	save=$(save_cmd "$ipt")
	if ! command -v "$restore" > /dev/null || ! command -v "$save" > /dev/null; then
		skip "$ipt: save/restore round trip" "no $restore or $save"
		return
	fi
	matrix "$fam" > "$TMP/rules$fam"
	{
		echo "*filter"
		echo ":INPUT ACCEPT [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		cat "$TMP/rules$fam"
		echo "COMMIT"
	} > "$TMP/in$fam"
	flush_all "$ipt"
	check "$ipt: restore a matrix of $(wc -l < "$TMP/rules$fam") ratewin rules" \
		restore_file "$restore" "$TMP/in$fam" || return
	"$save" -t filter > "$TMP/s1.$ipt"
	# iptables-save lists chain by chain
	for c in INPUT FORWARD OUTPUT; do
		grep "^-A $c " "$TMP/rules$fam"
	done > "$TMP/want$fam"
	check "$ipt: iptables-save gives back exactly the canonical rules" \
		diff -u "$TMP/want$fam" <(grep '^-A ' "$TMP/s1.$ipt")
	flush_all "$ipt"
	check "$ipt: restore the saved rule set" \
		restore_file "$restore" "$TMP/s1.$ipt"
	"$save" -t filter > "$TMP/s2.$ipt"
	check "$ipt: save -> restore -> save is byte-identical" \
		diff -u <(save_body "$TMP/s1.$ipt") <(save_body "$TMP/s2.$ipt")
	sed -n 's/^-A /-D /p' "$TMP/in$fam" > "$TMP/del$fam"
	check "$ipt: -D by rule removes every restored rule" \
		bash -c "{ echo '*filter'; cat '$TMP/del$fam'; echo COMMIT; } |
			$restore --noflush && ! $ipt -w -S | grep -q '^-A '"
	flush_all "$ipt"
}

info "the .t file: ${SECONDS}s"
SECONDS=0
for ipt in $BACKENDS4; do
	round_trip "$ipt" 4
done
for ipt in $BACKENDS6; do
	round_trip "$ipt" 6
done

# Across backends: what one saved, the other restores to the same rules.
cross() {
	local from=$1 to=$2
	[ -f "$TMP/s1.$from" ] && command -v "$to" > /dev/null || {
		skip "$from -> $to: save restores in the other backend" "not both available"
		return
	}
	flush_all "$to"
	check "$from -> $to: restore the other backend's save" \
		restore_file "$(restore_cmd "$to")" "$TMP/s1.$from" &&
	check "$from -> $to: same rules listed" \
		diff -u <(grep '^-A ' "$TMP/s1.$from") <(rules_of "$to")
	flush_all "$to"
}
cross iptables iptables-legacy
cross iptables-legacy iptables
cross ip6tables ip6tables-legacy
cross ip6tables-legacy ip6tables

# ---------------------------------------------------------------------------
# 3. Invalid command lines: exit status exactly 2, one line of explanation,
# no rule left.
# ---------------------------------------------------------------------------
INVALID=(
	"-m ratewin"
	"-m ratewin --ratewin-window 5/1m"
	"-m ratewin --ratewin-name x"
	"-m ratewin --ratewin-name '' --ratewin-window 5/1m"
	"-m ratewin --ratewin-name a/b --ratewin-window 5/1m"
	"-m ratewin --ratewin-name abcdefghijklmnopqrstuvwxyz012345 --ratewin-window 5/1m"
	"-m ratewin --ratewin-name x --ratewin-name y --ratewin-window 5/1m"
	"-m ratewin --ratewin-name x --ratewin-rate 0/second"
	"-m ratewin --ratewin-name x --ratewin-rate 18446744073709551617/second"
	"-m ratewin --ratewin-name x --ratewin-rate 10/fortnight"
	"-m ratewin --ratewin-name x --ratewin-rate 10kb/minute"
	"-m ratewin --ratewin-name x --ratewin-rate 4097mb/s"
	"-m ratewin --ratewin-name x --ratewin-rate 10/s --ratewin-burst 2147483649"
	"-m ratewin --ratewin-name x --ratewin-rate 10/s --ratewin-burst 64kb"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-burst 10"
	"-m ratewin --ratewin-name x --ratewin-window 0/1m"
	"-m ratewin --ratewin-name x --ratewin-window 5/60"
	"-m ratewin --ratewin-name x --ratewin-window 5/31d"
	"-m ratewin --ratewin-name x --ratewin-conn-above 0"
	"-m ratewin --ratewin-name x --ratewin-rate 10/s --ratewin-count-all"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-ban 0s"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-full sometimes"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-mode ''"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-mode srcip,proto"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-srcmask 129"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-dstmask 24"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-htable-max 67108865"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-htable-gcinterval 9"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m ! --ratewin-upto"
)
INVALID4=(
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-srcmask 33"
	"-m ratewin --ratewin-name x --ratewin-window 5/1m --ratewin-mode dstip --ratewin-dstmask 64"
)

invalid() {
	local ipt=$1 cmd=$2 rc l n=0
	local -a lines
	eval "ipt $ipt -A INPUT $cmd" > "$TMP/out" 2>&1
	rc=$?
	# one line naming the problem, besides iptables' hint and warnings
	mapfile -t lines < "$TMP/out"
	for l in "${lines[@]}"; do
		case $l in
		'' | 'Try '* | 'Warning: '*) ;;
		*) n=$((n + 1)) ;;
		esac
	done
	if [ $rc -eq 2 ] && [ $n -eq 1 ]; then
		ok "$ipt: refused with status 2: $cmd"
	else
		fail "$ipt: refused with status 2: $cmd"
		echo "#   exit $rc; output:"
		sed 's/^/#     /' "$TMP/out"
	fi
}

info "round trips: ${SECONDS}s"
SECONDS=0
for ipt in $BACKENDS4 $BACKENDS6; do
	flush_all "$ipt"
	for cmd in "${INVALID[@]}"; do
		invalid "$ipt" "$cmd"
	done
	if [[ $ipt != ip6* ]]; then
		for cmd in "${INVALID4[@]}"; do
			invalid "$ipt" "$cmd"
		done
	fi
	check "$ipt: the invalid command lines left no rule" \
		test -z "$(rules_of "$ipt")"
	flush_all "$ipt"
done

# A restore file with one invalid line is refused as a whole and changes
# nothing.
for ipt in $BACKENDS4; do
	restore=$(restore_cmd "$ipt")
	command -v "$restore" > /dev/null || continue
	flush_all "$ipt"
	printf '%s\n' '*filter' \
		'-A INPUT -m ratewin --ratewin-name good --ratewin-window 5/1m' \
		'-A INPUT -m ratewin --ratewin-name bad --ratewin-window 5/fortnight' \
		'COMMIT' > "$TMP/bad.rules"
	check_fail "$restore: a file with an invalid ratewin line is refused" \
		restore_file "$restore" "$TMP/bad.rules"
	check "$restore: and leaves no rule" test -z "$(rules_of "$ipt")"
done

info "invalid command lines: ${SECONDS}s"

# ---------------------------------------------------------------------------
# 4. --help lists every option; -L prints the rule in words.
# ---------------------------------------------------------------------------
OPTIONS="name mode srcmask dstmask rate burst window conn-above count-all ban
upto full htable-size htable-max htable-expire htable-gcinterval"
for ipt in iptables ip6tables; do
	command -v "$ipt" > /dev/null || continue
	help=$("$ipt" -m ratewin --help 2>/dev/null)
	missing=
	for o in $OPTIONS; do
		grep -q -- "--ratewin-$o " <<< "$help" || missing+=" --ratewin-$o"
	done
	if [ -z "$missing" ]; then
		ok "$ipt -m ratewin --help lists every option"
	else
		fail "$ipt -m ratewin --help lists every option"
		info "missing:$missing"
	fi
done

for ipt in $BACKENDS4; do
	flush_all "$ipt"
	ipt "$ipt" -A INPUT -p tcp --dport 22 -m ratewin --ratewin-name ssh \
		--ratewin-window 5/60s --ratewin-ban 90000ms -j DROP > /dev/null 2>&1
	check "$ipt -L: the rule in words" bash -c \
		"$ipt -w -L INPUT -n | grep -q 'ratewin: name ssh window 5/1m ban 90s'"
	flush_all "$ipt"
done

ksft_exit

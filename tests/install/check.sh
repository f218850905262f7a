#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-install: the install paths of README.md, proven on this host.
#
#   tests/install/check.sh [--counts FILE] [--no-dkms]
#
# 1. docs: every option of `iptables -m ratewin --help` is in the man page
#    and the man page names no other; README.md names no option the plugin
#    lacks; the man page renders with groff and man without a warning.
# 2. make install / make uninstall with DESTDIR (and KVER of the test
#    kernel): the three files land where they belong, the module is the one
#    built for KVER, nothing outside DESTDIR changes, uninstall removes them.
# 3. DKMS, for real, on this host: make dkms-install KVER=<test kernel>
#    (dkms add/build/install into /lib/modules/<ver>/updates/dkms, depmod,
#    the plugin into the system xtables dir, the man page), then one boot of
#    that kernel running tests/selftests/30_dkms.sh, where iptables rules
#    autoload the DKMS module with no insmod and no XTABLES_LIBDIR; then
#    make dkms-uninstall, after which module, plugin and man page are gone
#    and the host is as it was before (a listing of every place touched is
#    compared). A trap undoes the install whatever happens. Needs root; it
#    skips (and says why) if xt_ratewin is already installed here, rather
#    than replace someone's install. The DKMS module is only on the host for
#    the length of that one boot.
#
# Prints TAP points and a last line "install: N passed, N failed, N skipped";
# --counts FILE also writes "passed failed skipped" there. Exit 0 when nothing
# failed.

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
MAKE=(make --no-print-directory -C "$SRC")

counts="" dodkms=1
while [ $# -gt 0 ]; do
	case $1 in
	--counts) counts=$2; shift ;;
	--no-dkms) dodkms=0 ;;
	*) echo "usage: $0 [--counts FILE] [--no-dkms]" >&2; exit 2 ;;
	esac
	shift
done

N=0 P=0 F=0 S=0
ok() { N=$((N + 1)); P=$((P + 1)); echo "ok $N - $*"; }
fail() { N=$((N + 1)); F=$((F + 1)); echo "not ok $N - $*"; }
skip() { N=$((N + 1)); S=$((S + 1)); echo "ok $N - $1 # SKIP ${2:-}"; }
info() { echo "# $*"; }
# check DESC CMD...: a point; CMD's output is shown only when it fails.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc"
		echo "#   command: $* (exit $rc)"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	return $rc
}
finish() {
	echo "1..$N"
	[ -n "$counts" ] && echo "$P $F $S" > "$counts"
	echo "install: $P passed, $F failed, $S skipped"
	[ $F -eq 0 ]
}

TMP=$(mktemp -d)
CLEANUPS=()
run_cleanups() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[$i]}"
	done
	CLEANUPS=()
	rm -rf "$TMP"
}
trap 'run_cleanups' EXIT
trap 'exit 130' INT TERM HUP

KVER=${VM_KVER:-$(tests/vm/run.sh --print-kver 2> /dev/null)}
XTLIBDIR=$(pkg-config --variable=xtlibdir xtables 2> /dev/null)
VERSION=$(cat VERSION 2> /dev/null)
PLUGIN_XT="XTABLES_LIBDIR=$SRC/userspace:${XTLIBDIR:-/usr/lib/x86_64-linux-gnu/xtables}"
echo "TAP version 13"
info "install checks: version ${VERSION:-?}, kernel ${KVER:-none}, xtables dir ${XTLIBDIR:-?}"

# ---------------------------------------------------------------- docs
info "---- documentation against the plugin ----"
opts_help() {
	env "$PLUGIN_XT" iptables -m ratewin --help 2> /dev/null |
		sed -n '/^ratewin match options:/,$p' | grep -o -- '--ratewin-[a-z-]*[a-z]' | sort -u
}
opts_in() { sed 's/\\-/-/g' "$1" | grep -o -- '--ratewin-[a-z-]*[a-z]' | sort -u; }

if "${MAKE[@]}" userspace > "$TMP/build.log" 2>&1 && [ -n "$(opts_help)" ]; then
	opts_help > "$TMP/help.opts"
	info "the plugin's --help lists $(wc -l < "$TMP/help.opts") options"
	opts_in userspace/xt_ratewin.8 > "$TMP/man.opts"
	missing=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	extra=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	if [ -z "$missing$extra" ]; then
		ok "xt_ratewin.8 documents exactly the options of --help"
	else
		fail "xt_ratewin.8 documents exactly the options of --help (missing: ${missing:-none}; not in --help: ${extra:-none})"
	fi
	if [ -f README.md ]; then
		opts_in README.md > "$TMP/readme.opts"
		extra=$(comm -13 "$TMP/help.opts" "$TMP/readme.opts" | tr '\n' ' ')
		if [ -z "$extra" ]; then
			ok "README.md names only options the plugin has ($(wc -l < "$TMP/readme.opts") used)"
		else
			fail "README.md names only options the plugin has (not in --help: $extra)"
		fi
	else
		skip "README.md names only options the plugin has" "no README.md"
	fi
else
	sed 's/^/#   /' "$TMP/build.log" | tail -n 20
	fail "the plugin builds and prints its --help"
fi
check "xt_ratewin.8 renders with groff -man -ww without a warning" \
	bash -c '[ -z "$(groff -man -ww -z userspace/xt_ratewin.8 2>&1)" ]'
check "xt_ratewin.8 renders with man --warnings -l without a warning" \
	bash -c '[ -z "$(MANWIDTH=80 man --warnings -l userspace/xt_ratewin.8 2>&1 > /dev/null)" ]'
# The example rules of README.md and of the man page: each one as written
# goes through the plugin's parser (iptables-translate parses with the
# plugin and never talks to the kernel).
doc_rules() {
	case $1 in
	*.md) awk '/^```/ { c = !c; next } c' "$1" ;;
	*) MANWIDTH=250 man -l "$1" 2> /dev/null | col -b |
		awk '/^EXAMPLES/ { e = 1; next } /^[A-Z]/ { e = 0 } e' ;;
	esac | sed -e ':a' -e '/\\$/{N; s/\\\n[[:space:]]*/ /; ba' -e '}' |
		sed -E -e 's/^[[:space:]]*(sudo |# )?//' -e 's/[[:space:]]+#.*$//' |
		grep -E '^ip6?tables(-legacy|-nft)? (.* )?-[AIRD] .*-m ratewin'
}
parse_rules() {
	local line ipt n=0 bad=0
	local -a w
	while IFS= read -r line; do
		read -ra w <<< "$line"
		case ${w[0]} in
		ip6tables*) ipt=ip6tables-translate ;;
		*) ipt=iptables-translate ;;
		esac
		n=$((n + 1))
		if ! env "$PLUGIN_XT" "$ipt" "${w[@]:1}" > /dev/null 2> "$TMP/parse.err"; then
			echo "#   rejected: $line"
			sed 's/^/#     /' "$TMP/parse.err"
			bad=$((bad + 1))
		fi
	done
	echo "$n $bad"
}
for doc in README.md userspace/xt_ratewin.8; do
	if [ ! -f "$doc" ]; then
		skip "every ratewin rule in $doc parses" "no $doc"
		continue
	fi
	res=$(doc_rules "$doc" | parse_rules)
	read -r n bad <<< "$(tail -n1 <<< "$res")"
	sed '$d' <<< "$res"
	if [ "$n" -gt 0 ] && [ "$bad" = 0 ]; then
		ok "every ratewin rule in $doc parses ($n rules)"
	else
		fail "every ratewin rule in $doc parses ($n rules, $bad rejected)"
	fi
done

# ------------------------------------------------------ make install DESTDIR
info "---- make install / make uninstall with DESTDIR ----"
if [ -z "$KVER" ] || [ ! -f "/lib/modules/$KVER/build/Makefile" ]; then
	skip "make install DESTDIR=..." "no test kernel with headers (make deps)"
else
	D=$TMP/destdir
	depbefore=$(md5sum "/lib/modules/$KVER/modules.dep" 2> /dev/null)
	if "${MAKE[@]}" install DESTDIR="$D" KVER="$KVER" PREFIX=/usr > "$TMP/install.log" 2>&1; then
		ok "make install DESTDIR=... KVER=$KVER"
		ko=$D/lib/modules/$KVER/updates/xt_ratewin.ko
		check "module in DESTDIR/lib/modules/$KVER/updates/" test -f "$ko"
		vm=$(modinfo -F vermagic "$ko" 2> /dev/null | cut -d' ' -f1)
		if [ "$vm" = "$KVER" ]; then
			ok "the installed module is built for $KVER"
		else
			fail "the installed module is built for $KVER (vermagic '$vm')"
		fi
		check "plugin in DESTDIR$XTLIBDIR/" test -f "$D$XTLIBDIR/libxt_ratewin.so"
		check "man page in DESTDIR/usr/share/man/man8/" test -f "$D/usr/share/man/man8/xt_ratewin.8"
		check "with DESTDIR, depmod did not touch the system" \
			test "$depbefore" = "$(md5sum "/lib/modules/$KVER/modules.dep" 2> /dev/null)"
		if "${MAKE[@]}" uninstall DESTDIR="$D" KVER="$KVER" PREFIX=/usr > "$TMP/uninstall.log" 2>&1; then
			left=$(find "$D" -type f | sed "s,^$D,," | tr '\n' ' ')
			if [ -z "$left" ]; then
				ok "make uninstall DESTDIR=... removes all of it"
			else
				fail "make uninstall DESTDIR=... removes all of it (left: $left)"
			fi
		else
			sed 's/^/#   /' "$TMP/uninstall.log" | tail -n 20
			fail "make uninstall DESTDIR=... KVER=$KVER"
		fi
	else
		sed 's/^/#   /' "$TMP/install.log" | tail -n 30
		fail "make install DESTDIR=... KVER=$KVER"
	fi
	# KDIR builds for one kernel, KVER names another: refused, not installed
	# where it would fail to load.
	if "${MAKE[@]}" install DESTDIR="$D" KVER=0.0.0-not-this \
		KDIR="/lib/modules/$KVER/build" > "$TMP/bad.log" 2>&1; then
		fail "make install refuses a module built for another kernel than KVER"
	elif grep -q "is built for" "$TMP/bad.log" && [ -z "$(find "$D" -type f)" ]; then
		ok "make install refuses a module built for another kernel than KVER"
	else
		sed 's/^/#   /' "$TMP/bad.log" | tail -n 10
		fail "make install refuses a module built for another kernel than KVER (unexpected error)"
	fi
fi

# ------------------------------------------------------------------- DKMS
dkms_skip() {
	skip "DKMS: install for $KVER, autoload in a boot, uninstall" "$1"
	finish
	exit $?
}
[ $dodkms = 1 ] || dkms_skip "--no-dkms"
info "---- DKMS on this host for $KVER, one boot, then removed ----"
[ "$(id -u)" = 0 ] || dkms_skip "needs root"
command -v dkms > /dev/null || dkms_skip "dkms is not installed (make deps)"
[ -n "$KVER" ] && [ -f "/lib/modules/$KVER/build/Makefile" ] ||
	dkms_skip "no test kernel with headers (make deps)"
[ -n "$XTLIBDIR" ] || dkms_skip "pkg-config --variable=xtlibdir xtables gave nothing"

: "${CACHE_DIR:=/var/cache/xt_ratewin}"
mkdir -p "$CACHE_DIR"
exec 8> "$CACHE_DIR/install-check.lock"
if ! flock -w 600 8; then
	dkms_skip "another check-install holds $CACHE_DIR/install-check.lock"
fi
MARK=$CACHE_DIR/install-check.installed
MANDIR_SYS=/usr/local/share/man
MANPAGE=$MANDIR_SYS/man8/xt_ratewin.8

host_uninstall() {
	"${MAKE[@]}" dkms-uninstall KVER="$KVER" MANDIR="$MANDIR_SYS" > "$TMP/dkms-uninstall.log" 2>&1
}
# A run killed before its trap ran leaves its mark: that install is ours.
if [ -e "$MARK" ]; then
	info "cleaning up after an interrupted earlier run ($(cat "$MARK"))"
	host_uninstall || true
	while read -r f; do rm -f "$f"; done < <(sed -n 's/^created: //p' "$MARK")
	rm -f "$MARK"
fi
already=""
[ -n "$(dkms status xt_ratewin 2> /dev/null)" ] && already+=" dkms:$(dkms status xt_ratewin | head -n1)"
for f in "/lib/modules/$KVER/updates/xt_ratewin.ko" "$XTLIBDIR/libxt_ratewin.so" "$MANPAGE" \
	/usr/src/xt_ratewin-*; do
	[ -e "$f" ] && already+=" $f"
done
[ -z "$already" ] || dkms_skip "xt_ratewin is already installed here (${already# }); not replacing it"

# Everything the install touches, by content (depmod rewrites the indexes:
# they must come back identical).
snapshot() {
	{
		find /usr/src -maxdepth 1 | sort
		find /var/lib/dkms | sort
		find "/lib/modules/$KVER" -maxdepth 1 | sort
		find "/lib/modules/$KVER/updates" "/lib/modules/$KVER/extra" 2> /dev/null | sort
		(cd "/lib/modules/$KVER" && md5sum modules.*)
		find "$XTLIBDIR" -maxdepth 1 | sort
		find "$MANDIR_SYS" | sort
	} 2> /dev/null
}
snapshot > "$TMP/before"

# Build for the VM first, so that the boot does not rebuild while the DKMS
# copy sits in /lib/modules.
if ! "${MAKE[@]}" vm-build > "$TMP/vm-build.log" 2>&1; then
	sed 's/^/#   /' "$TMP/vm-build.log" | tail -n 30
	fail "build for $KVER (make vm-build)"
	finish
	exit $?
fi

# Every guest sees the host's /lib/modules: while the DKMS copy is there, no
# other VM run may boot. Take every VM slot of tests/vm/slot.sh (one per
# VM_SMP cores) until the copy is gone. A caller that holds a slot itself
# (VM_PARALLEL set, e.g. make check) keeps it; the others are taken as they
# come free.
slots=$(( $(nproc) / ${VM_SMP:-2} ))
[ "$slots" -ge 1 ] || slots=1
want=$slots
[ -n "${VM_PARALLEL:-}" ] && want=$((slots - 1))
got=0 waited=0
declare -A slotfd=()
while [ $got -lt $want ]; do
	for ((i = 1; i <= slots; i++)); do
		[ -n "${slotfd[$i]:-}" ] && continue
		exec {fd}> "$CACHE_DIR/vm-slot-$i.lock"
		if flock -n "$fd"; then
			slotfd[$i]=$fd
			got=$((got + 1))
			[ $got -ge $want ] && break
		else
			exec {fd}>&-
		fi
	done
	[ $got -ge $want ] && break
	[ $waited = 0 ] && info "waiting for other VM runs to end (the DKMS module must only be seen by its own boot)"
	waited=$((waited + 1))
	sleep 1
done
[ $waited -gt 0 ] && info "waited ${waited}s for the VM slots"
export VM_PARALLEL=1

created=()
for f in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
	[ -e "$f" ] || created+=("$f")
done
{
	echo "pid $$ at $(date -u +%FT%TZ)"
	for f in "${created[@]}"; do echo "created: $f"; done
} > "$MARK"
restore() {
	[ -e "$MARK" ] || return 0
	host_uninstall || { echo "# make dkms-uninstall failed:"; sed 's/^/#   /' "$TMP/dkms-uninstall.log"; }
	# dkms made a signing key for this install: it was not there before.
	for f in "${created[@]}"; do rm -f "$f"; done
	rm -f "$MARK"
}
CLEANUPS+=(restore)

t0=$(date +%s)
if "${MAKE[@]}" dkms-install KVER="$KVER" MANDIR="$MANDIR_SYS" > "$TMP/dkms-install.log" 2>&1; then
	ok "make dkms-install KVER=$KVER ($(($(date +%s) - t0)) s)"
else
	sed 's/^/#   /' "$TMP/dkms-install.log" | tail -n 40
	fail "make dkms-install KVER=$KVER"
fi
st=$(dkms status "xt_ratewin/$VERSION" -k "$KVER" 2> /dev/null)
info "dkms status: $st"
case $st in
*installed*) ok "dkms status: xt_ratewin/$VERSION installed for $KVER" ;;
*) fail "dkms status: xt_ratewin/$VERSION installed for $KVER" ;;
esac
check "the source is in /usr/src/xt_ratewin-$VERSION with its dkms.conf" \
	test -f "/usr/src/xt_ratewin-$VERSION/dkms.conf"
path=$(modinfo -k "$KVER" -F filename xt_ratewin 2> /dev/null)
case $path in
"/lib/modules/$KVER/updates/"*) ok "modinfo -k $KVER xt_ratewin: $path" ;;
*) fail "modinfo -k $KVER xt_ratewin resolves under updates/ (got '${path:-nothing}')" ;;
esac
check "depmod ran: modules.alias maps ipt_ratewin and ip6t_ratewin" \
	bash -c "grep -q '^alias ipt_ratewin xt_ratewin' /lib/modules/$KVER/modules.alias &&
		grep -q '^alias ip6t_ratewin xt_ratewin' /lib/modules/$KVER/modules.alias"
check "the plugin is installed in $XTLIBDIR" cmp userspace/libxt_ratewin.so "$XTLIBDIR/libxt_ratewin.so"
check "man -w xt_ratewin finds the installed page" \
	bash -c "[ \"\$(readlink -f \"\$(man -w xt_ratewin 2>/dev/null)\")\" = '$MANPAGE' ]"

vmrc=1
if [ -n "$path" ]; then
	info "booting $KVER with suite 30_dkms (no insmod, no XTABLES_LIBDIR)"
	VM_APPEND="${VM_APPEND:-} xtrw_dkms=1" tests/vm/run.sh --no-build \
		--counts "$TMP/vm.counts" 30_dkms 2>&1 | tee "$TMP/vm.log" | sed 's/^/#   /'
	vmrc=${PIPESTATUS[0]}
	# The boot's own points count in the totals (not in this TAP plan).
	if [ -s "$TMP/vm.counts" ]; then
		read -r p f s < "$TMP/vm.counts"
		P=$((P + p)) F=$((F + f)) S=$((S + s))
		info "the boot: $p passed, $f failed, $s skipped"
	fi
	if [ "$vmrc" = 0 ]; then
		ok "the boot with the DKMS module passed"
	else
		fail "the boot with the DKMS module passed (harness exit $vmrc)"
	fi
	# The guest's own verdict: the suite really ran and did not skip.
	run=$(sed -n 's/^vm: run dir \([^;]*\);.*/\1/p' "$TMP/vm.log" | head -n1)
	if grep -q '^ok .*autoloaded' "$SRC/$run/guest/suites/30_dkms/stdout" 2> /dev/null; then
		ok "the guest autoloaded the DKMS module from an iptables rule"
	else
		fail "the guest autoloaded the DKMS module from an iptables rule"
	fi
else
	skip "the boot with the DKMS module" "dkms-install failed"
fi

# Remove, then prove it is gone and the host is as before.
restore
CLEANUPS=()
if grep -q "dkms remove xt_ratewin/$VERSION --all" "$TMP/dkms-uninstall.log"; then
	ok "make dkms-uninstall ran dkms remove xt_ratewin/$VERSION --all"
else
	sed 's/^/#   /' "$TMP/dkms-uninstall.log" | tail -n 20
	fail "make dkms-uninstall ran dkms remove xt_ratewin/$VERSION --all"
fi
check "dkms status no longer lists xt_ratewin" bash -c '[ -z "$(dkms status xt_ratewin 2>/dev/null)" ]'
check "modinfo -k $KVER xt_ratewin finds nothing" bash -c "! modinfo -k $KVER xt_ratewin > /dev/null 2>&1"
check "modules.alias no longer has ratewin" bash -c "! grep -q ratewin /lib/modules/$KVER/modules.alias"
check "the plugin is gone from $XTLIBDIR" test ! -e "$XTLIBDIR/libxt_ratewin.so"
check "the man page is gone" test ! -e "$MANPAGE"
check "/usr/src/xt_ratewin-$VERSION is gone" test ! -e "/usr/src/xt_ratewin-$VERSION"
snapshot > "$TMP/after"
if diff "$TMP/before" "$TMP/after" > "$TMP/diff"; then
	ok "the host is as before (sources, DKMS tree, /lib/modules/$KVER, xtables dir, man dir)"
else
	sed 's/^/#   /' "$TMP/diff"
	fail "the host is as before (sources, DKMS tree, /lib/modules/$KVER, xtables dir, man dir)"
fi

finish

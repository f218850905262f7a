#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/run.sh: boot the test kernel under qemu and run selftest suites.
#
#   tests/vm/run.sh [options] [SUITE...]     (no SUITE: every regular suite)
#   tests/vm/run.sh --print-kver             the kernel the tests boot
#
# SUITE is tests/selftests/NN_name.sh, given as NN_name, name, or either
# with .sh. Suites whose header says "# vm-expect: kernel-report" (the
# harness self-check) only run when named. A suite's "# vm-append: ARG..."
# header adds ARG... to the kernel command line of the boot it runs in (each
# argument once, however many suites of the boot ask for it).
#
# Options:
#   --no-build        do not run `make vm-build` first
#   --no-last-failure do not point tests/vm/out/last-failure at this run
#   --quiet           do not print the guest log of a failed run
#   --counts FILE     write "passed failed skipped" (TAP points) to FILE
#   --verdict FILE    copy the verdict (key=value lines, run=<dir>) to FILE
#   --script FILE     run FILE (a bash script, not a suite: make bench) like a
#                     suite, named after it; with no SUITE, only the scripts run
#   --module FILE     boot with FILE as the guest's xt_ratewin.ko instead of
#                     the one make vm-build made (a test build of the module)
# Environment: KERNEL=generic|rt|debug (the kernel to boot: the newest
#   installed generic one, the newest PREEMPT_RT one, or the debug kernel of
#   tests/vm/debug-kernel.sh); VM_KVER, VM_KERNEL (image), VM_KDIR,
#   VM_MODROOT (a dir with lib/modules/<ver>) override the parts;
#   VM_SUITE_TIMEOUT (default 180 s; a suite's "# vm-timeout: N" wins),
#   VM_BOOT_TIMEOUT (default 120 s + the sum of the suite timeouts),
#   VM_TIMEOUT_SCALE (multiplies the suite timeouts; 4 for KERNEL=debug,
#   whose boot allowance is 600 s),
#   VM_STALL_TIMEOUT (default 300 s; 0: off): a guest whose console stays
#   silent this long before init starts has hung in early boot (a healthy
#   debug boot's longest silence is about 30 s); it is booted once more,
#   and if that one stalls too the run ends "did not boot", not at the
#   whole-boot timeout,
#   VM_MEM (1024), VM_SMP (2), VM_APPEND (extra kernel command line),
#   VM_PVH=0 (boot the bzImage, not its cached uncompressed vmlinux),
#   VM_ACCEL (qemu -accel value; default kvm where /dev/kvm is writable
#   and a probe boot runs under it (kvm_works), else tcg; e.g.
#   tcg,thread=multi),
#   CACHE_DIR (initramfs cache; default /var/cache/xt_ratewin).
#
# Exit status, most serious first:
#   5  the guest did not boot
#   3  the kernel reported a problem (oops, BUG, WARNING, KASAN, lockdep,
#      RCU stall, Call Trace, UBSAN, kmemleak, bad taint flags)
#   6  the guest stopped answering or died before the suites finished
#   2  a suite timed out
#   1  a suite failed (or the harness could not set up)
#   0  every suite passed or skipped, and the kernel log is clean
# Every run keeps its files in tests/vm/out/<run>/ (console.log: the whole
# serial console with the kernel log; guest/: what the guest wrote; verdict).
# tests/vm/out/latest points at the newest run, tests/vm/out/last-failure at
# the newest failed one.

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMDIR=$SRC/tests/vm
OUTROOT=$VMDIR/out
# shellcheck source=tests/vm/tap.sh
. "$VMDIR/tap.sh"
# shellcheck source=tests/vm/slot.sh
. "$VMDIR/slot.sh"

EXIT_FAIL=1 EXIT_TIMEOUT=2 EXIT_KERNEL=3 EXIT_NOBOOT=5 EXIT_DIED=6

log() { echo "vm: $*"; }
die() { echo "vm: error: $*" >&2; exit $EXIT_FAIL; }

# The newest /boot/vmlinuz-<ver> with a /lib/modules/<ver>/build tree. Of
# one version, the generic flavour (-amd64) wins over the others (-rt-amd64,
# -cloud-amd64): it is what `make deps` installs on a fresh machine. With
# flavour "rt" only PREEMPT_RT kernels count.
newest_kver() {
	local want=${1:-} k v
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's,^/boot/vmlinuz-,,'); do
		[ -f "/lib/modules/$k/build/Makefile" ] || continue
		case $want:$k in rt:*-rt-*|:*) ;; *) continue ;; esac
		v=$(echo "$k" | sed -n 's/^\([0-9.]*-[0-9]*\).*/\1/p')
		case ${k#"$v"} in -amd64|"") echo "${v:-$k} 1 $k" ;; *) echo "${v:-$k} 0 $k" ;; esac
	done | sort -k1,1V -k2,2n | tail -n1 | awk '{ print $3 } END { exit NR == 0 }'
}

# Sets KVER, KIMAGE, KDIR, MODROOT for the kernel to boot:
#   KERNEL unset or "generic": VM_KVER, or the newest installed kernel;
#   KERNEL=rt: the newest PREEMPT_RT kernel installed;
#   KERNEL=debug: the debug kernel built by tests/vm/debug-kernel.sh.
# VM_KVER, VM_KERNEL, VM_KDIR and VM_MODROOT override the parts.
resolve_kernel() {
	local d
	case ${KERNEL:-generic} in
	generic|"")
		KVER=${VM_KVER:-$(newest_kver)} || return 1
		;;
	rt)
		KVER=${VM_KVER:-$(newest_kver rt)} ||
			{ echo "no PREEMPT_RT kernel with headers (apt-get install linux-image-rt-amd64 linux-headers-rt-amd64)" >&2; return 1; }
		;;
	debug)
		d=$("$VMDIR/debug-kernel.sh" dir) || return 1
		[ -f "$d/ready" ] ||
			{ echo "the debug kernel is not built: tests/vm/debug-kernel.sh build (about 50 minutes)" >&2; return 1; }
		KVER=${VM_KVER:-$(cat "$d/kver")}
		: "${VM_KERNEL:=$d/build/arch/x86/boot/bzImage}"
		: "${VM_KDIR:=$d/build}"
		: "${VM_MODROOT:=$d/modroot}"
		;;
	*)
		echo "KERNEL=$KERNEL: use generic, rt or debug (or VM_KVER=<ver>)" >&2
		return 1
		;;
	esac
	[ -n "$KVER" ] || return 1
	KIMAGE=${VM_KERNEL:-/boot/vmlinuz-$KVER}
	KDIR=${VM_KDIR:-/lib/modules/$KVER/build}
	MODROOT=${VM_MODROOT:-}
}

# NN_name for a suite given as NN_name, name, NN_name.sh or a path.
resolve_suite() {
	local want=${1##*/} f n
	want=${want%.sh}
	for f in "$SRC"/tests/selftests/[0-9][0-9]_*.sh; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .sh)
		if [ "$n" = "$want" ] || [ "${n#[0-9][0-9]_}" = "$want" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# --script files by the name they run under
declare -A SCRIPT_PATH=()

# Value of a "# vm-<tag>: value" header line of a suite.
suite_tag() {	# suite name: "# vm-NAME: VALUE" of its header
	sed -n "/^[^#]/q; s/^# vm-$2: *\\([^ ]*\\).*/\\1/p" \
		"${SCRIPT_PATH[$1]:-$SRC/tests/selftests/$1.sh}" | head -n1
}

# The kernel command line arguments the suites ask for ("# vm-append:
# ARG..." lines of their header, the comment lines before the first
# command), each once, in the order first asked.
suite_append() {
	local s
	for s in "$@"; do
		sed -n '/^[^#]/q; s/^# vm-append: *//p' \
			"${SCRIPT_PATH[$s]:-$SRC/tests/selftests/$s.sh}"
	done | awk '{ for (i = 1; i <= NF; i++) if (!seen[$i]++) print $i }' | paste -sd' ' -
}

default_suites() {
	local f n
	for f in "$SRC"/tests/selftests/[0-9][0-9]_*.sh; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .sh)
		[ "$(suite_tag "$n" expect)" = kernel-report ] && continue
		echo "$n"
	done
}

# The initramfs: static busybox, the 9p/virtio module chain of the guest
# kernel and tests/vm/initramfs-init. Cached outside the checkout, keyed by
# everything that goes into it.
build_initramfs() {
	local kver=$1 modroot=$MODROOT busybox m line path key out tmp
	local -a msrc=() mdep=()
	local depargs=(-S "$kver")

	busybox=$(command -v busybox 2>/dev/null || true)
	[ -x /bin/busybox ] && busybox=/bin/busybox
	[ -n "$busybox" ] || die "busybox not found (run: make deps)"
	if ldd "$busybox" >/dev/null 2>&1; then
		die "$busybox is not static (install busybox-static: make deps)"
	fi
	[ -n "$modroot" ] && depargs+=(-d "$modroot")
	for m in virtio_pci virtio_rng 9pnet_virtio 9p; do
		while read -r line; do
			case $line in
			insmod\ *)
				path=${line#insmod }
				path=${path%% *}
				case " ${mdep[*]} " in *" $path "*) ;; *) mdep+=("$path") ;; esac
				;;
			builtin\ *) ;;
			esac
		done < <(modprobe "${depargs[@]}" --show-depends "$m" 2>/dev/null)
	done
	key=$( {
		echo "$kver $busybox"
		cat "$VMDIR/initramfs-init" "$busybox"
		for m in "${mdep[@]}"; do echo "$m"; cat "$m"; done
	} | md5sum | cut -c1-16)
	out=$CACHE_DIR/initramfs-$kver-$key.cpio.gz
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$CACHE_DIR" || die "cannot create $CACHE_DIR"
	tmp=$(mktemp -d "$CACHE_DIR/initramfs.XXXXXX") || die "mktemp in $CACHE_DIR"
	mkdir -p "$tmp/bin" "$tmp/modules"
	cp "$busybox" "$tmp/bin/busybox"
	cp "$VMDIR/initramfs-init" "$tmp/init"
	chmod 0755 "$tmp/init"
	: > "$tmp/modules.list"
	for m in "${mdep[@]}"; do
		case $m in
		*.ko.xz) xz -dc "$m" > "$tmp/modules/$(basename "$m" .xz)" ;;
		*.ko.zst) zstd -qdc "$m" > "$tmp/modules/$(basename "$m" .zst)" ;;
		*.ko.gz) gzip -dc "$m" > "$tmp/modules/$(basename "$m" .gz)" ;;
		*) cp "$m" "$tmp/modules/" ;;
		esac
		m=$(basename "$m")
		echo "${m%.ko*}.ko" >> "$tmp/modules.list"
	done
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp" &&
		mv "$out.tmp" "$out"
	# Older images of this kernel (a running qemu keeps its open copy).
	find "$CACHE_DIR" -maxdepth 1 -name "initramfs-$kver-*.cpio.gz" ! -name "${out##*/}" -delete
	rm -rf "$tmp"
	[ -s "$out" ] || die "could not build the initramfs"
	echo "$out"
}

# kvm_works KERNEL: /dev/kvm is writable and a guest really runs under it.
# On some hosts (nested virtualisation) /dev/kvm is there but KVM stops the
# guest at its first instructions ("KVM internal error"), and the console
# stays silent until the stall watchdog. So KERNEL is booted under KVM
# until its first console line, once per host kernel, qemu and image: the
# verdict is cached in CACHE_DIR (under a lock: parallel runs probe once).
kvm_works() {
	local img=$1 key f d i v=broken
	[ -w /dev/kvm ] || return 1
	key=$( { uname -r; qemu-system-x86_64 --version | head -n1; echo "$img"; } |
		md5sum | cut -c1-16)
	f=$CACHE_DIR/kvm-probe-$key
	mkdir -p "$CACHE_DIR"
	(
		flock 9
		[ -s "$f" ] && exit 0
		d=$(mktemp -d)
		qemu-system-x86_64 -accel kvm -m 256 -nodefaults -no-user-config \
			-display none -no-reboot -monitor none \
			-serial "file:$d/console" -kernel "$img" \
			-append "console=ttyS0 panic=-1" > "$d/qemu.out" 2>&1 &
		local pid=$!
		for ((i = 0; i < 300; i++)); do
			grep -qs 'Linux version' "$d/console" && { v=ok; break; }
			grep -qs 'KVM internal error' "$d/qemu.out" && break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.1
		done
		kill "$pid" 2> /dev/null
		wait "$pid" 2> /dev/null
		echo "$v $(grep -m1 -s 'KVM internal error' "$d/qemu.out")" > "$f"
		rm -rf "$d"
	) 9> "$f.lock"
	[ "$(cut -d' ' -f1 "$f" 2> /dev/null)" = ok ]
}

# The uncompressed vmlinux of a bzImage, when it can be booted directly
# through its PVH entry point (a Xen ELF note of type 0x12): qemu then skips
# the real-mode setup and the decompression, which take about 6 s under TCG.
# Cached next to the initramfs; prints the image to boot (the bzImage when
# extraction does not apply). VM_PVH=0 turns this off.
pvh_kernel() {
	local img=$1 out key magic off cmd
	if [ "${VM_PVH:-1}" = 0 ] || ! command -v readelf > /dev/null; then
		echo "$img"
		return 0
	fi
	key=$( { echo "$img"; stat -c '%s %Y' "$img"; } | md5sum | cut -c1-16)
	out=$CACHE_DIR/vmlinux-pvh-$key
	if [ ! -s "$out" ] && [ ! -e "$out.none" ]; then
		for magic in xz gzip zstd; do
			case $magic in
			xz) off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$img" | head -n1); cmd="xz -dc --single-stream" ;;
			gzip) off=$(LC_ALL=C grep -abo $'\x1f\x8b\x08' "$img" | head -n1); cmd="gzip -dc" ;;
			zstd) off=$(LC_ALL=C grep -abo $'\x28\xb5\x2f\xfd' "$img" | head -n1); cmd="zstd -dcq" ;;
			esac
			off=${off%%:*}
			[ -n "$off" ] || continue
			tail -c +$((off + 1)) "$img" | $cmd > "$out.tmp$$" 2> /dev/null
			if [ "$(head -c4 "$out.tmp$$" | od -An -c | tr -d ' ')" = '177ELF' ] &&
				readelf -n "$out.tmp$$" 2> /dev/null | grep -q 'Xen .*(0x00000012)'; then
				mv "$out.tmp$$" "$out"
				break
			fi
			rm -f "$out.tmp$$"
		done
		[ -s "$out" ] || : > "$out.none"
	fi
	if [ -s "$out" ]; then echo "$out"; else echo "$img"; fi
}

# Kernel-report scan over the console log and the guest's dmesg. Prints
# "<suite or boot>: <line>" for each offending line.
scan_kernel_log() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		tr -d '\r' < "$f" | awk -v pats="$VMDIR/kernel-report.patterns" \
			-v allow="$VMDIR/kernel-report.allow" -v file="${f##*/}" '
			function load(path, arr,   n, l) {
				n = 0
				while ((getline l < path) > 0) {
					if (l ~ /^#/ || l ~ /^[ \t]*$/)
						continue
					arr[++n] = l
				}
				close(path)
				return n
			}
			BEGIN { np = load(pats, P); na = load(allow, A); where = "boot" }
			/xt_ratewin-vm: suite .* start/ {
				where = $0
				sub(/.*xt_ratewin-vm: suite /, "", where)
				sub(/ start.*/, "", where)
				next
			}
			/xt_ratewin-vm: suites done/ { where = "after the suites"; next }
			{
				hit = 0
				for (i = 1; i <= np; i++)
					if ($0 ~ P[i]) { hit = 1; break }
				if (!hit)
					next
				for (i = 1; i <= na; i++)
					if ($0 ~ A[i]) next
				print file ": " where ": " $0
			}'
	done
}

# Taint bits that mean the kernel saw a problem: M(4) machine check, B(5) bad
# page (KASAN sets it), D(7) died/oops, W(9) warning, L(14) soft lockup.
BAD_TAINT=$(( (1 << 4) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 14) ))
taint_letters() {
	local t=$1 out="" i
	local names=(P F S R M B U D A W C I O E L K X T)
	for i in "${!names[@]}"; do
		(( t & (1 << i) )) && out+=${names[$i]}
	done
	echo "${out:--}"
}

main() {
	local build=1 lastfail=1 quiet=0 countsfile="" verdictfile="" a s kver kernel
	local module=""
	local -a suites=()

	while [ $# -gt 0 ]; do
		case $1 in
		--print-kver) resolve_kernel && echo "$KVER"; exit $? ;;
		--print-kdir) resolve_kernel && echo "$KDIR"; exit $? ;;
		--no-build) build=0 ;;
		--no-last-failure) lastfail=0 ;;
		--quiet) quiet=1 ;;
		--counts) countsfile=$2; shift ;;
		--verdict) verdictfile=$2; shift ;;
		--module) module=$(realpath -e "$2") || die "no module $2"; shift ;;
		--script)
			a=$(realpath -e "$2") || die "no script $2"
			s=script_$(basename "$a" .sh)
			SCRIPT_PATH[$s]=$a
			suites+=("$s")
			shift
			;;
		-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
		-*) die "unknown option $1" ;;
		*)
			for a in ${1//,/ }; do
				s=$(resolve_suite "$a") || die "no suite '$a' in tests/selftests/"
				suites+=("$s")
			done
			;;
		esac
		shift
	done
	[ ${#suites[@]} -gt 0 ] || mapfile -t suites < <(default_suites)
	[ ${#suites[@]} -gt 0 ] || die "no suites in tests/selftests/"

	resolve_kernel || die "no /boot/vmlinuz-<ver> with /lib/modules/<ver>/build (run: make deps)"
	kver=$KVER kernel=$KIMAGE
	[ -r "$kernel" ] || die "cannot read the kernel image $kernel"
	[ -f "$KDIR/Makefile" ] || die "no kernel build tree at $KDIR"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run: make deps)"
	: "${CACHE_DIR:=/var/cache/xt_ratewin}"
	if ! mkdir -p "$CACHE_DIR" 2>/dev/null || [ ! -w "$CACHE_DIR" ]; then
		CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/xt_ratewin
	fi

	if [ $build = 1 ]; then
		make -C "$SRC" --no-print-directory vm-build VM_KVER="$kver" VM_KDIR="$KDIR" ||
			die "build for $kver failed"
	fi

	# The run directory; guest/ is the writable share.
	local run stamp
	stamp=$(date +%Y%m%d-%H%M%S)-$$
	run=$OUTROOT/$stamp
	mkdir -p "$run/guest/artifacts/xtables" || die "cannot create $run"
	ln -sfn "$stamp" "$OUTROOT/latest"

	# Snapshot what the guest uses, so a rebuild during the run cannot race.
	local vmb=$SRC/build/$kver ko
	for ko in "$vmb"/ratewin/kernel/*.ko "$vmb"/warnmod/*.ko; do
		[ -f "$ko" ] && cp "$ko" "$run/guest/artifacts/"
	done
	if [ -n "$module" ]; then
		cp "$module" "$run/guest/artifacts/xt_ratewin.ko" || die "cannot copy $module"
		log "module: $module"
	fi
	[ -f "$run/guest/artifacts/xt_ratewin.ko" ] ||
		die "no $vmb/ratewin/kernel/xt_ratewin.ko (run: make vm-build)"
	for ko in "$SRC"/userspace/*.so; do
		[ -f "$ko" ] && cp "$ko" "$run/guest/artifacts/xtables/"
	done

	local initrd
	initrd=$(build_initramfs "$kver") || exit $EXIT_FAIL
	kernel=$(pvh_kernel "$kernel")

	local xtlibdir t sum=0 n
	xtlibdir=$(pkg-config --variable=xtlibdir xtables 2>/dev/null)
	: "${xtlibdir:=/usr/lib/x86_64-linux-gnu/xtables}"
	local deftimeout=${VM_SUITE_TIMEOUT:-180} scale=${VM_TIMEOUT_SCALE:-1} base=120
	local stall=${VM_STALL_TIMEOUT:-300}
	local -A stimeouts=()
	# The debug kernel (KASAN, lockdep, kmemleak) is several times slower
	# and takes about two minutes to boot under TCG.
	if [ "${KERNEL:-}" = debug ]; then
		scale=${VM_TIMEOUT_SCALE:-4}
		base=600
	fi
	deftimeout=$((deftimeout * scale))
	{
		printf 'XTRW_SRC=%q\n' "$SRC"
		printf 'XTRW_KVER=%q\n' "$kver"
		printf 'XTRW_SUITES=%q\n' "${suites[*]}"
		printf 'XTRW_SUITE_TIMEOUT=%q\n' "$deftimeout"
		printf 'XTRW_TRACE=%q\n' "${VM_TRACE:-}"
		printf 'XTRW_ARTIFACTS=/run/xtrw/artifacts\n'
		printf 'XTRW_KO=/run/xtrw/artifacts/xt_ratewin.ko\n'
		printf 'XTRW_WARNMOD_KO=/run/xtrw/artifacts/warnmod.ko\n'
		printf 'XTABLES_LIBDIR=%q\n' "/run/xtrw/artifacts/xtables:$xtlibdir"
		for s in "${suites[@]}"; do
			t=$(suite_tag "$s" timeout)
			t=$(( ${t:-$((deftimeout / scale))} * scale ))
			sum=$((sum + t))
			stimeouts[$s]=$t
			printf 'XTRW_TIMEOUT_%s=%q\n' "${s//[^A-Za-z0-9_]/_}" "$t"
			[ -n "${SCRIPT_PATH[$s]:-}" ] &&
				printf 'XTRW_PATH_%s=%q\n' "${s//[^A-Za-z0-9_]/_}" "${SCRIPT_PATH[$s]}"
		done
	} > "$run/guest/config.sh"
	local boottimeout=${VM_BOOT_TIMEOUT:-$((base + sum))}

	local accel=${VM_ACCEL:-tcg}
	if [ -z "${VM_ACCEL:-}" ] && [ -e /dev/kvm ]; then
		if kvm_works "$kernel"; then
			accel=kvm
		else
			log "/dev/kvm does not run a guest here: TCG"
		fi
	fi
	# A TCG vCPU can go without host CPU for a while when the host is busy:
	# RCU stall and soft-lockup reports come after 60 s rather than 21 s and
	# 20 s, so that only a real stall makes one. no_timer_check: the boot's
	# test that the IO-APIC timer ticks can miss its window on such a vCPU
	# and panic ("IO-APIC + timer doesn't work!", seen with four boots
	# starting at once).
	local append="console=ttyS0 panic=-1 mitigations=off xtrw_src=$SRC"
	append+=" rcupdate.rcu_cpu_stall_timeout=60 watchdog_thresh=30 no_timer_check"
	[ -n "$MODROOT" ] && append+=" xtrw_modroot=1"
	local sappend
	sappend=$(suite_append "${suites[@]}")
	[ -n "$sappend" ] && append+=" $sappend"
	append+=" ${VM_APPEND:-}"
	local -a qemu=(qemu-system-x86_64 -accel "$accel" -m "${VM_MEM:-1024}"
		-smp "${VM_SMP:-2}" -nodefaults -no-user-config -display none
		-no-reboot -monitor none -serial "file:$run/console.log"
		-kernel "$kernel" -initrd "$initrd" -append "$append"
		-device virtio-rng-pci
		-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$SRC,mount_tag=src,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$run/guest,mount_tag=results,security_model=none")
	[ -n "$MODROOT" ] && qemu+=(-virtfs
		"local,path=$MODROOT/lib/modules,mount_tag=modroot,security_model=none,readonly=on,multidevs=remap")
	printf '%q ' "${qemu[@]}" > "$run/qemu.cmd"
	echo >> "$run/qemu.cmd"

	log "kernel $kver ($accel), suites: ${suites[*]}"
	[ -n "$sappend" ] && log "kernel command line, asked for by the suites: $sappend"
	log "run dir ${run#"$SRC"/}; per-suite timeout ${deftimeout}s, boot timeout ${boottimeout}s"

	# One VM per VM_SMP host cores at a time (tests/vm/slot.sh); the wait
	# does not count against any timeout.
	vm_slot_acquire

	local t0 qpid booted="" now stalled="" csize=0 csize_at attempt=1 qrc
	# A guest that stalls before init is booted once more: no suite has
	# run, and the hang is the kernel's own (the debug kernel's RCU-tasks
	# self test hangs now and then under TCG); the first console is kept.
	while :; do
		t0=$(date +%s%N)
		timeout -k 5 "$boottimeout" "${qemu[@]}" > "$run/qemu.out" 2>&1 &
		qpid=$!
		csize=0 csize_at=$t0
		trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; exit 130' INT TERM

		# Follow the run: report the boot and each suite as it ends.
		local -A reported=()
		while :; do
			local alive=1
			kill -0 $qpid 2>/dev/null || alive=0
			if [ -z "$booted" ] && [ -f "$run/guest/booted" ]; then
				now=$(date +%s%N)
				booted=$(secs $((now - t0)))
				log "guest booted: init started $booted s after qemu start" \
					"(guest uptime $(cat "$run/guest/booted") s)"
			fi
			# Before init, a console silent for $stall s is an early-boot
			# hang (seen: a debug kernel stopped in its RCU self tests).
			if [ -z "$booted" ] && [ -z "$stalled" ] && [ "$stall" -gt 0 ] && [ $alive = 1 ]; then
				local sz
				sz=$(stat -c %s "$run/console.log" 2>/dev/null || echo 0)
				now=$(date +%s%N)
				if [ "$sz" != "$csize" ]; then
					csize=$sz csize_at=$now
				elif [ $((now - csize_at)) -ge $((stall * 1000000000)) ]; then
					stalled=$(secs $((now - t0)))
					log "guest stalled before init: no console output for ${stall} s; stopping it"
					kill $qpid 2>/dev/null
				fi
			fi
			for s in "${suites[@]}"; do
				[ -n "${reported[$s]:-}" ] && continue
				[ -f "$run/guest/suites/$s/rc" ] || continue
				reported[$s]=1
				log "suite $s: $(suite_word "$(cat "$run/guest/suites/$s/rc")")" \
					"in $(suite_secs "$run/guest/suites/$s") s"
			done
			[ $alive = 0 ] && break
			sleep 0.5
		done
		wait $qpid
		qrc=$?
		trap - INT TERM
		if [ -n "$stalled" ] && [ $attempt = 1 ]; then
			mv "$run/console.log" "$run/console.stall-1.log"
			log "booting once more (the stalled boot's console: console.stall-1.log)"
			attempt=2 stalled=""
			continue
		fi
		break
	done
	local total
	total=$(secs $(($(date +%s%N) - t0)))
	echo "$booted" > "$run/boot-seconds"
	echo "$total" > "$run/total-seconds"

	# ---- verdict ----
	local P=0 F=0 S=0 verdict=0 nboot=0 died=0 stimeout=0 sfail=0 kreport=0
	local reasons=() line rc p f k d
	local tapout=$run/tap.txt
	: > "$tapout"

	if [ -n "$stalled" ]; then
		nboot=1
		reasons+=("guest stalled before init twice: its console was silent for ${stall} s (stopped ${stalled} s after qemu start; last console line: $(tr -d '\r' < "$run/console.log" | grep -v '^$' | tail -n1 | cut -c1-160))")
	elif [ ! -f "$run/guest/booted" ]; then
		nboot=1
		reasons+=("guest did not boot (qemu exit $qrc; see console.log, qemu.out)")
	elif [ ! -f "$run/guest/done" ]; then
		died=1
		if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
			reasons+=("guest stopped answering: whole-boot timeout of ${boottimeout}s hit")
		else
			reasons+=("guest died before the suites finished (qemu exit $qrc)")
		fi
	fi

	local n_tp=0
	for s in "${suites[@]}"; do
		d=$run/guest/suites/$s
		echo "# ---- suite $s ----" >> "$tapout"
		if [ ! -f "$d/rc" ]; then
			if [ -f "$d/start" ]; then
				reasons+=("suite $s did not finish (guest stopped during it)")
			else
				reasons+=("suite $s never ran")
			fi
			cat "$d/stdout" >> "$tapout" 2>/dev/null
			echo "not ok - $s did not finish" >> "$tapout"
			F=$((F + 1))
			sfail=1
			continue
		fi
		rc=$(cat "$d/rc")
		cat "$d/stdout" >> "$tapout"
		read -r p f k < <(tap_count "$d/stdout" "$rc")
		P=$((P + p)) F=$((F + f)) S=$((S + k))
		case $rc in
		0) ;;
		4) ;;
		124|137)
			stimeout=1
			reasons+=("suite $s timed out: stopped after $(suite_secs "$d") s, its limit is ${stimeouts[$s]} s")
			;;
		*)
			sfail=1
			reasons+=("suite $s failed (exit $rc)")
			;;
		esac
	done

	# Kernel reports: log text, taint flags, kmemleak, lockdep.
	local reportfile=$run/kernel-report.txt
	scan_kernel_log "$run/console.log" "$run/guest/dmesg" > "$reportfile"
	local taint=""
	for f in "$run/guest/tainted" "$run"/guest/suites/*/tainted.after "$run/guest/tainted.boot"; do
		[ -s "$f" ] || continue
		t=$(cat "$f")
		if (( t & BAD_TAINT )); then
			echo "taint: ${f#"$run"/guest/}: $t ($(taint_letters "$t"))" >> "$reportfile"
		fi
		taint=${taint:-$t}
	done
	if [ -s "$run/guest/kmemleak" ]; then
		echo "kmemleak: $(grep -c 'unreferenced object' "$run/guest/kmemleak") unreferenced objects (guest/kmemleak)" >> "$reportfile"
	fi
	if [ -f "$run/guest/lockdep_stats" ] && grep -q 'debug_locks: *0' "$run/guest/lockdep_stats"; then
		echo "lockdep: debug_locks is 0 (lockdep turned itself off after a report)" >> "$reportfile"
	fi
	if [ -s "$reportfile" ]; then
		kreport=1
		# Name the headline of the first report, not its "cut here" line.
		line=$(grep -v -e 'cut here' -e 'Call Trace' "$reportfile" | head -n1)
		reasons+=("kernel reported a problem ($(wc -l < "$reportfile") lines in kernel-report.txt): ${line:-$(head -n1 "$reportfile")}")
	fi

	if [ $nboot = 1 ]; then
		echo "not ok - guest booted" >> "$tapout"
		F=$((F + 1))
	fi
	if [ $kreport = 1 ]; then
		echo "not ok - kernel log clean" >> "$tapout"
		F=$((F + 1))
	elif [ $nboot = 0 ] && [ $died = 0 ]; then
		echo "ok - kernel log clean" >> "$tapout"
		P=$((P + 1))
	fi

	if [ $nboot = 1 ]; then verdict=$EXIT_NOBOOT
	elif [ $kreport = 1 ]; then verdict=$EXIT_KERNEL
	elif [ $died = 1 ]; then verdict=$EXIT_DIED
	elif [ $stimeout = 1 ]; then verdict=$EXIT_TIMEOUT
	elif [ $sfail = 1 ]; then verdict=$EXIT_FAIL
	fi
	local vname
	case $verdict in
	0) vname=pass ;;
	"$EXIT_NOBOOT") vname=no-boot ;;
	"$EXIT_KERNEL") vname=kernel-report ;;
	"$EXIT_DIED") vname=guest-died ;;
	"$EXIT_TIMEOUT") vname=suite-timeout ;;
	*) vname=suite-failed ;;
	esac
	{
		echo "verdict=$vname"
		echo "run=$run"
		echo "exit=$verdict"
		echo "kver=$kver"
		echo "suites=${suites[*]}"
		echo "booted=$((1 - nboot))"
		echo "stalled=$([ -n "$stalled" ] && echo 1 || echo 0)"
		echo "boot_attempts=$attempt"
		echo "died=$died"
		echo "suite_failed=$sfail"
		echo "suite_timeout=$stimeout"
		echo "kernel_report=$kreport"
		echo "boot_seconds=$booted"
		echo "total_seconds=$total"
		echo "passed=$P failed=$F skipped=$S"
		for s in "${suites[@]}"; do
			echo "suite_rc_$s=$(cat "$run/guest/suites/$s/rc" 2>/dev/null || echo none)"
		done
	} > "$run/verdict"
	[ -n "$countsfile" ] && echo "$P $F $S" > "$countsfile"
	[ -n "$verdictfile" ] && cp "$run/verdict" "$verdictfile"

	# ---- report ----
	for s in "${suites[@]}"; do
		d=$run/guest/suites/$s
		echo "# ---- $s: $(suite_word "$(cat "$d/rc" 2>/dev/null)"), $(suite_secs "$d") s ----"
		[ -s "$d/stdout" ] && cat "$d/stdout"
		if [ -s "$d/stderr" ]; then
			if [ "$(cat "$d/rc" 2>/dev/null)" = 0 ] && [ "$(wc -l < "$d/stderr")" -gt 20 ]; then
				echo "# (stderr: $(wc -l < "$d/stderr") lines in ${d#"$SRC"/}/stderr)"
			else
				sed 's/^/# stderr: /' "$d/stderr"
			fi
		fi
	done
	if [ -s "$reportfile" ]; then
		echo "# ---- kernel report ----"
		sed 's/^/# /' "$reportfile" | head -n 60
	fi
	log "boot ${booted:-?} s, whole run $total s"
	if [ $verdict = 0 ]; then
		log "PASS: $P passed, $F failed, $S skipped (TAP points incl. kernel log check)"
	else
		for a in "${reasons[@]}"; do log "FAIL: $a"; done
		if [ $lastfail = 1 ]; then
			ln -sfn "$stamp" "$OUTROOT/last-failure"
			local keep=${OUTROOT#"$SRC"/}/last-failure
			if [ $quiet = 0 ]; then
				echo "# ---- full guest console log (${keep}/console.log) ----"
				tr -d '\r' < "$run/console.log"
				echo "# ---- end of guest console log ----"
			fi
			log "guest log kept in ${keep}/console.log (kernel log: ${keep}/guest/dmesg)"
		else
			log "guest log kept in ${run#"$SRC"/}/console.log"
		fi
		log "verdict: $vname (exit $verdict)"
	fi

	# Keep the newest 20 runs (and whatever the links point at).
	local keepl keepf
	keepl=$(readlink "$OUTROOT/latest" 2>/dev/null)
	keepf=$(readlink "$OUTROOT/last-failure" 2>/dev/null)
	ls -1d "$OUTROOT"/[0-9]*-[0-9]* 2>/dev/null | sort -r | tail -n +21 |
		while read -r a; do
			case ${a##*/} in "$keepl"|"$keepf") continue ;; esac
			rm -rf "$a"
		done
	exit $verdict
}

# Nanoseconds to seconds with one decimal.
secs() { printf '%d.%d' $(($1 / 1000000000)) $(($1 % 1000000000 / 100000000)); }

# A suite's run time in seconds, from the guest's uptime stamps.
suite_secs() {
	awk '{ t[FILENAME] = $1 } END { printf "%.1f", t[ARGV[2]] - t[ARGV[1]] }' \
		"$1/start" "$1/end" 2>/dev/null
}

suite_word() {
	case ${1:-} in
	0) echo passed ;;
	4) echo skipped ;;
	124|137) echo "TIMED OUT" ;;
	"") echo "did not finish" ;;
	*) echo "FAILED (exit $1)" ;;
	esac
}

main "$@"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel (KASAN, lockdep, PROVE_RCU, kmemleak, UBSAN, DEBUG_OBJECTS)
# that `make check KERNEL=debug` boots, built once from Debian's
# linux-source-6.1 into a cache outside the checkout.
#
#   debug-kernel.sh build    build it unless already cached (~50 min on 2
#                            cores, at nice 19 / idle I/O class); waits if
#                            another build of the same kernel is running
#   debug-kernel.sh dir      print the cache directory of this configuration
#   debug-kernel.sh kver     print its kernel release (built kernels only)
#   debug-kernel.sh status   "ready", "building" or "missing"
#
# Layout of the cache dir ($CACHE_DIR/debug-kernel/<key>/, the key hashes the
# config fragment and the linux-source version):
#   build/                 the O= build tree: `make -C build M=...` builds
#                          out-of-tree modules against it
#   build/arch/x86/boot/bzImage
#   modroot/lib/modules/<kver>/   its in-tree modules (modules_install)
#   kver                   the kernel release string
#   ready                  stamp written last; its absence means "not built"
#   build.log
#
# Never in CI: with CI=true (or CI=1) `build` refuses, exit status 3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel.config
cache_dir=${CACHE_DIR:-/var/cache/xt_ratewin}
srctree=${LINUX_SOURCE:-/usr/src/linux-source-6.1}
jobs=${DEBUG_KERNEL_JOBS:-$(nproc)}

die() { echo "debug-kernel: $*" >&2; exit 1; }

[ -f "$srctree/Makefile" ] || die "no kernel source at $srctree (apt-get install linux-source-6.1 and extract /usr/src/linux-source-6.1.tar.xz there)"
srcver=$(make -s -C "$srctree" kernelversion 2>/dev/null || echo unknown)
key=$( { cat "$frag"; echo "$srcver"; dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true; } \
	| sha256sum | cut -c1-12)
out=$cache_dir/debug-kernel/$key

status() {
	if [ -f "$out/ready" ]; then echo ready
	elif [ -e "$out/lock" ] && ! flock -n "$out/lock" true 2>/dev/null; then echo building
	else echo missing; fi
}

in_ci() { case "${CI:-}" in true|1|yes) return 0;; esac; return 1; }

# Runs make at the lowest CPU and I/O priority: other engineers' VM tests
# share the cores.
kmake() { nice -n 19 ionice -c3 make -C "$srctree" O="$out/build" "$@"; }

# What building a kernel needs beyond a compiler: refuse early, naming the
# Debian packages.
build_deps() {
	local missing=() c
	for c in flex bison bc perl make gcc; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	[ -f /usr/include/gelf.h ] || missing+=(libelf-dev)
	[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
	[ ${#missing[@]} = 0 ] ||
		die "missing to build a kernel: ${missing[*]} (apt-get install ${missing[*]})"
}

# modroot/lib/modules/<kver>/build points at the O= tree by its host path,
# which the guest (whose root is the host's) sees the same: dkms and M=
# builds in the guest find the headers there.
link_build() {
	local d
	d=$out/modroot/lib/modules/$(cat "$out/kver")
	[ -d "$d" ] || return 0
	ln -sfn "$out/build" "$d/build"
	ln -sfn "$srctree" "$d/source"
}

build() {
	if [ -f "$out/ready" ]; then
		link_build
		echo "debug-kernel: ready in $out ($(cat "$out/kver"))"
		return 0
	fi
	if in_ci; then
		echo "debug-kernel: refusing to build the debug kernel in CI (CI=$CI): it takes about an hour; KERNEL=debug is for developer machines" >&2
		exit 3
	fi
	mkdir -p "$out"
	exec 9>"$out/lock"
	if ! flock -n 9; then
		echo "debug-kernel: another build of $out is running; waiting for it (tail -f $out/build.log)" >&2
		flock 9
		[ -f "$out/ready" ] || die "the other build did not finish: see $out/build.log"
		echo "debug-kernel: ready in $out ($(cat "$out/kver"))"
		return 0
	fi
	[ -f "$out/ready" ] && return 0
	build_deps
	[ ! -f "$srctree/.config" ] && [ ! -d "$srctree/include/config" ] ||
		die "$srctree is not clean (it has a .config): O= builds need a clean source tree (make -C $srctree mrproper)"

	echo "debug-kernel: building into $out (about 50 minutes on 2 cores; log: $out/build.log)" >&2
	local t0=$SECONDS
	{
		set -x
		mkdir -p "$out/build"
		kmake defconfig
		kmake kvm_guest.config
		"$srctree/scripts/kconfig/merge_config.sh" -m -O "$out/build" \
			"$out/build/.config" "$frag"
		kmake olddefconfig
		set +x
	} >"$out/build.log" 2>&1 || die "configuring failed: see $out/build.log"

	# Every option of the fragment must have survived olddefconfig (a
	# dependency missing would silently drop one).
	local missing=0 line sym
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) sym=$line ;;
		"# CONFIG_"*" is not set") sym=$line ;;
		*) continue ;;
		esac
		if ! grep -qxF "$sym" "$out/build/.config"; then
			if [[ "$sym" == "# "* ]] && ! grep -q "^${sym:2:-11}=" "$out/build/.config"; then
				continue	# "not set" and absent: the same thing
			fi
			echo "debug-kernel: fragment line not in the final .config: $sym" >&2
			missing=1
		fi
	done <"$frag"
	[ $missing = 0 ] || die "the fragment does not apply cleanly (see above)"

	kmake -j"$jobs" bzImage modules >>"$out/build.log" 2>&1 ||
		die "build failed: see $out/build.log"
	rm -rf "$out/modroot"
	kmake INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod \
		modules_install >>"$out/build.log" 2>&1 || die "modules_install failed: see $out/build.log"
	kmake -s kernelrelease >"$out/kver"
	link_build
	date -u +%FT%TZ >"$out/ready"
	echo "debug-kernel: built $(cat "$out/kver") in $(( (SECONDS - t0) / 60 )) min: $out" >&2
}

case "${1:-}" in
build) build ;;
dir) echo "$out" ;;
kver) [ -f "$out/ready" ] || die "not built yet ($out): run $0 build"; cat "$out/kver" ;;
status) status ;;
*) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac

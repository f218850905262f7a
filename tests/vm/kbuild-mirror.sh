#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild-mirror.sh DEST SRCDIR ENTRY...
# Make DEST a tree of symlinks to the Kbuild sources of SRCDIR/ENTRY (files,
# or directories searched for *.c *.h *.S *.lds Kbuild Makefile), so that a
# module can be built with `make -C KDIR M=DEST` for one kernel without
# writing objects into the checkout or clashing with a build for another
# kernel. Links to files that no longer exist are removed.
set -euo pipefail
dest=$1 src=$2
shift 2
mkdir -p "$dest"
for e in "$@"; do
	if [ -d "$src/$e" ]; then
		(cd "$src" && find "$e" -type f \( -name '*.c' -o -name '*.h' -o \
			-name '*.S' -o -name '*.lds' -o -name Kbuild -o -name Makefile \) \
			! -name '*.mod.c') |
		while read -r f; do
			mkdir -p "$dest/$(dirname "$f")"
			[ "$(readlink "$dest/$f" 2>/dev/null)" = "$src/$f" ] ||
				ln -sfn "$src/$f" "$dest/$f"
		done
	elif [ -e "$src/$e" ]; then
		mkdir -p "$dest/$(dirname "$e")"
		[ "$(readlink "$dest/$e" 2>/dev/null)" = "$src/$e" ] ||
			ln -sfn "$src/$e" "$dest/$e"
	fi
done
find "$dest" -xtype l -delete

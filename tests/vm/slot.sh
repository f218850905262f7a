#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by tests/vm/run.sh and tests/vm/check.sh. vm_slot_acquire takes
# one of the host's VM slots (one per VM_SMP cores; TCG guests that share
# cores slow each other down until their timeouts mean nothing) and keeps
# it until the calling process and its children are gone. It waits for a
# free slot, saying so once. VM_PARALLEL=1 skips all this; vm_slot_acquire
# sets it, so that a run.sh started by a holder does not queue again.

vm_slot_acquire() {
	local slots i waited=0 fd
	[ -n "${VM_PARALLEL:-}" ] && return 0
	mkdir -p "$CACHE_DIR" 2>/dev/null
	slots=$(( $(nproc) / ${VM_SMP:-2} ))
	[ "$slots" -ge 1 ] || slots=1
	while :; do
		for ((i = 1; i <= slots; i++)); do
			exec {fd}> "$CACHE_DIR/vm-slot-$i.lock"
			if flock -n "$fd"; then
				[ $waited -gt 0 ] && echo "vm: waited ${waited}s for a VM slot"
				export VM_PARALLEL=1
				return 0
			fi
			exec {fd}>&-
		done
		[ $waited = 0 ] &&
			echo "vm: waiting for another VM run to end ($slots at a time; VM_PARALLEL=1 skips this)"
		waited=$((waited + 1))
		sleep 1
	done
}

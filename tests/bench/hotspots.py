#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
tests/bench/hotspots.py: where xt_ratewin's samples fall, instruction by
instruction, in a profile `make bench` recorded in the guest.

    hotspots.py PERF_DIR NAME [MIN_PERCENT]

PERF_DIR holds NAME.data (perf record -e cpu-clock), kallsyms and the
xt_ratewin.ko the guest loaded. Prints every code block of the module that
took at least MIN_PERCENT (default 2) of all samples, with its source lines.

Under qemu's TCG a timer interrupt is taken only between translated
blocks, so a sample's address is the start of the block that runs next:
the time it counts belongs to the block before. For each sampled address
the blocks that lead to it (the one that falls through to it and every
jump to it in the function) are shown, with the source line of each of
their memory reads: one of those reads is where the time went.
"""
import collections
import os
import re
import subprocess
import sys

BRANCH = re.compile(r'^(j[a-z]+|call|ret)\b')
MEMREAD = re.compile(r'\(%r[a-z0-9]+(,%r[a-z0-9]+,\d)?\)')


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def samples(perf_dir, name):
    out = run(['perf', 'script', '-i', os.path.join(perf_dir, name + '.data'),
               '--kallsyms', os.path.join(perf_dir, 'kallsyms'),
               '-F', 'ip,sym,symoff,dso'])
    total = 0
    mod = collections.Counter()
    for line in out.splitlines():
        total += 1
        if '[xt_ratewin]' not in line:
            continue
        m = re.match(r'\s*[0-9a-f]+ (\S+)\+0x([0-9a-f]+)', line)
        if m:
            mod[(m.group(1), int(m.group(2), 16))] += 1
    return total, mod


def disassemble(ko, sym):
    """[(offset, address, text)] of the function sym in ko."""
    out = run(['objdump', '-d', '--no-show-raw-insn', '--disassemble=' + sym, ko])
    insns, base = [], None
    for line in out.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\s+(.*)$', line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if base is None:
            base = addr
        insns.append((addr - base, addr, m.group(2).strip()))
    return insns


def source_line(ko, addr):
    """innermost function and file:line of addr"""
    out = run(['addr2line', '-f', '-i', '-e', ko, hex(addr)]).splitlines()
    if len(out) < 2:
        return '?'
    return '%s %s' % (out[0], os.path.basename(out[1]))


def block_before(insns, idx):
    """the instructions of the block ending at insns[idx] (a branch or the
    instruction before a block start), oldest first"""
    blk = [insns[idx]]
    i = idx - 1
    while i >= 0 and not BRANCH.match(insns[i][2]):
        blk.insert(0, insns[i])
        i -= 1
    return blk


def predecessors(insns, off):
    """indexes of the instructions that end the blocks leading to off"""
    pos = {o: i for i, (o, _, _) in enumerate(insns)}
    idx = pos.get(off)
    if idx is None:
        return []
    preds = []
    if idx > 0 and not re.match(r'^(jmp|ret)\b', insns[idx - 1][2]):
        preds.append(idx - 1)
    addr = insns[idx][1]
    for i, (_, _, text) in enumerate(insns):
        m = re.match(r'^j[a-z]+\s+([0-9a-f]+)\b', text)
        if m and int(m.group(1), 16) == addr and i != idx - 1:
            preds.append(i)
    return preds


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: hotspots.py PERF_DIR NAME [MIN_PERCENT]')
    perf_dir, name = sys.argv[1], sys.argv[2]
    minpct = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    ko = os.path.join(perf_dir, 'xt_ratewin.ko')
    if not os.path.exists(ko):
        sys.exit('hotspots: no %s' % ko)
    total, mod = samples(perf_dir, name)
    if not total:
        sys.exit('hotspots: no samples in %s' % name)
    insns = {}
    print('# %s: %d samples, %d (%.1f%%) in xt_ratewin' %
          (name, total, sum(mod.values()), 100.0 * sum(mod.values()) / total))
    for (sym, off), n in mod.most_common():
        pct = 100.0 * n / total
        if pct < minpct:
            break
        if sym not in insns:
            insns[sym] = disassemble(ko, sym)
        code = insns[sym]
        print('%5.1f%%  %s+0x%x' % (pct, sym, off))
        if off == 0:
            print('        after the caller\'s block that called it')
        for p in predecessors(code, off):
            reads = [(o, a, t) for o, a, t in block_before(code, p)
                     if MEMREAD.search(t) and not t.startswith('lea')]
            print('        after the block ending at +0x%x' % code[p][0])
            for o, a, t in reads:
                print('          +0x%-4x %-36s %s' % (o, t, source_line(ko, a)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw numbers of a `make bench` run into its table, JSON and plot data.

    analyze.py RESULTS_DIR

RESULTS_DIR holds raw/ (what tests/bench/guest.sh wrote in the VM) and
host.txt (what tests/bench/run.sh noted on the host). Writes, in RESULTS_DIR:
results.json, table.md (also printed), delta.dat and gc-*.dat for
tests/bench/plot.gp. The benchmark measures; nothing here asserts: a target
that is missed is reported as such.
"""
import json
import os
import re
import statistics
import sys

PHASE_BASE = {"A": "none", "B": "none-ct"}
ORDER = ["none", "floor", "floor-hit", "hashlimit", "recent", "recent-miss", "nft",
         "rw-rate", "rw-window", "rw-window-miss",
         "none-ct", "floor-ct", "hashlimit-ct", "connlimit", "rw-conn", "rw-all"]
# Plot titles: one word each (gnuplot's word() splits the header on blanks).
PLOT_LABEL = {
    "floor": "floor(mark)", "hashlimit": "hashlimit", "recent": "recent",
    "nft": "nft-set-limit", "rw-rate": "ratewin-rate", "rw-window": "ratewin-window",
    "floor-ct": "floor(ct)", "hashlimit-ct": "hashlimit(ct)", "connlimit": "connlimit(ct)",
    "rw-conn": "ratewin-conn(ct)", "rw-all": "ratewin-all(ct)",
}
LABEL = {
    "none": "no rule",
    "floor": "floor (-m mark)",
    "floor-hit": "floor, rule matches",
    "recent-miss": "recent ! --update",
    "rw-window-miss": "ratewin window --upto",
    "hashlimit": "hashlimit srcip",
    "recent": "recent --update",
    "nft": "nft set limit rate",
    "rw-rate": "ratewin rate",
    "rw-window": "ratewin window",
    "none-ct": "no rule, conntrack on",
    "floor-ct": "floor, conntrack on",
    "hashlimit-ct": "hashlimit, conntrack on",
    "connlimit": "connlimit",
    "rw-conn": "ratewin conn",
    "rw-all": "ratewin all three",
}


def nlabel(n):
    n = int(n)
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return "%dM" % (n >> 20)
    if n >= 1024 and n % 1024 == 0:
        return "%dk" % (n >> 10)
    return str(n)


def read_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    except OSError:
        return []


def raw_files(raw, sub, suffix, but=()):
    """(name without suffix, path) of the files raw/sub/*suffix, by name;
    none whose name ends in one of but."""
    d = os.path.join(raw, sub)
    if not os.path.isdir(d):
        return []
    return [(fn[:-len(suffix)], os.path.join(d, fn)) for fn in sorted(os.listdir(d))
            if fn.endswith(suffix) and not fn.endswith(tuple(but))]


def read_kv(path):
    kv = {}
    for l in read_lines(path):
        if "=" in l:
            k, v = l.split("=", 1)
            kv[k.strip()] = v.strip()
    return kv


# ---- host CPU time of the vCPU threads ------------------------------------
# When host-cpu.log and raw/sync/ are there (tests/bench/run.sh), rates are
# packets per second of CPU time that the busiest vCPU thread got in the
# window ("cpu"), which the host's other load does not change; otherwise
# packets per second of guest wall time ("wall").

class HostCpu:
    def __init__(self, outdir, raw):
        self.ok = False
        self.offset = None
        self.t = []
        self.cpu = {}
        offs = []
        d = os.path.join(raw, "sync")
        if os.path.isdir(d):
            for fn in os.listdir(d):
                path = os.path.join(d, fn)
                try:
                    with open(path) as f:
                        g = float(f.read().strip())
                    offs.append(os.stat(path).st_mtime_ns / 1e9 - g)
                except (OSError, ValueError):
                    pass
        if not offs:
            return
        self.offset = min(offs)
        self.offset_spread = sorted(offs)[len(offs) // 2] - self.offset
        rows = []
        for l in read_lines(os.path.join(outdir, "host-cpu.log")):
            p = l.split()
            try:
                t = float(p[0])
                rows.append((t, {int(x.split(":")[0]): int(x.split(":")[1]) for x in p[1:]}))
            except (ValueError, IndexError):
                continue
        if len(rows) < 10:
            return
        self.t = [r[0] for r in rows]
        tids = set()
        for r in rows:
            tids.update(r[1])
        for tid in tids:
            last = 0
            seq = []
            for r in rows:
                last = r[1].get(tid, last)
                seq.append(last)
            self.cpu[tid] = seq
        self.ok = True

    def _at(self, tid, h):
        import bisect
        t = self.t
        i = bisect.bisect_left(t, h)
        if i <= 0 or i >= len(t):
            return None
        c = self.cpu[tid]
        f = (h - t[i - 1]) / (t[i] - t[i - 1])
        return c[i - 1] + f * (c[i] - c[i - 1])

    def busy(self, g0, g1, k=1):
        """CPU seconds of the k busiest qemu threads between guest times."""
        if not self.ok:
            return None
        h0, h1 = g0 + self.offset, g1 + self.offset
        used = []
        for tid in self.cpu:
            a, b = self._at(tid, h0), self._at(tid, h1)
            if a is None or b is None:
                return None
            used.append((b - a) / 1e9)
        used.sort(reverse=True)
        return used[:k]


HOSTCPU = None


def pps_of(t0a, t0b, n0, t1a, t1b, n1, threads=1):
    g0 = (float(t0a) + float(t0b)) / 2
    g1 = (float(t1a) + float(t1b)) / 2
    dt = g1 - g0
    if dt <= 0:
        return None
    if HOSTCPU is not None and HOSTCPU.ok:
        b = HOSTCPU.busy(g0, g1, threads)
        if b and min(b) > 0.05 * dt:
            # packets per CPU-second of each busy vCPU thread
            return (int(n1) - int(n0)) / (sum(b) / len(b))
        return None
    return (int(n1) - int(n0)) / dt


def ns_per_pkt(pps):
    return 1e9 / pps if pps else None


def fmt_k(pps):
    return "-" if pps is None else "%.1fk" % (pps / 1000)


def fmt_ns(x):
    return "-" if x is None else "%.0f" % x


def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


# ---- throughput ------------------------------------------------------------

def throughput(raw):
    """{phase: {n: [(round, contender, pps), ...]}} in the order measured"""
    t = {}
    for l in read_lines(os.path.join(raw, "tput.tsv")):
        f = l.split()
        if len(f) != 10:
            continue
        phase, n, rnd, c = f[0], int(f[1]), int(f[2]), f[3]
        p = pps_of(*f[4:10])
        if p is None:
            continue
        t.setdefault(phase, {}).setdefault(n, []).append((rnd, c, p))
    return t


# A contender's no-rule neighbours differing by more than this part: the
# host changed speed around the contender's run, which is then left out.
MODE_STEP = 0.10
# ... as long as this many of the contender's rounds are left
MIN_STEADY = 3


def relative_costs(seq, base):
    """For each measurement of a contender: its time per packet relative to
    the no-rule runs next to it, t / t_base - 1, with t_base the mean of
    the two neighbours' times (guest.sh measures base, X, base, Y, base,
    ...). A change of the host's speed that slows every packet alike
    cancels out of it. Runs whose two neighbours differ by more than
    MODE_STEP are left out while MIN_STEADY others are left. Without a
    neighbouring no-rule run (an older run's layout), the median of its
    round's no-rule runs. Returns {contender: {round: rel}} and (runs
    left out, runs whose neighbours differ, runs with two neighbours)."""
    by_round = {}
    for r, c, p in seq:
        if c == base:
            by_round.setdefault(r, []).append(1e9 / p)
    rel, unsteady, stepped, both = {}, {}, 0, 0
    for i, (r, c, p) in enumerate(seq):
        if c == base:
            continue
        nb = [1e9 / seq[j][2] for j in (i - 1, i + 1)
              if 0 <= j < len(seq) and seq[j][1] == base and seq[j][0] == r]
        if nb:
            tb = sum(nb) / len(nb)
        elif by_round.get(r):
            tb = statistics.median(by_round[r])
        else:
            continue
        x = (1e9 / p) / tb - 1
        if len(nb) == 2:
            both += 1
            if abs(nb[0] - nb[1]) > MODE_STEP * min(nb):
                stepped += 1
                unsteady.setdefault(c, {})[r] = x
                continue
        rel.setdefault(c, {})[r] = x
    left_out = 0
    for c, u in unsteady.items():
        if len(rel.get(c, {})) >= MIN_STEADY:
            left_out += len(u)
        else:
            rel.setdefault(c, {}).update(u)
    return rel, (left_out, stepped, both)


def summarize(t):
    """Per phase, n, contender: median/min/max pps and the added cost.

    The added cost is the median over rounds of the contender's time per
    packet relative to its neighbouring no-rule runs (relative_costs()),
    times the no-rule time per packet (the median over all its runs)."""
    out = {}
    base_a = {}
    steps = {}
    for phase in sorted(t):
        base = PHASE_BASE.get(phase)
        for n in sorted(t[phase]):
            seq = t[phase][n]
            runs = {}
            for r, c, p in seq:
                runs.setdefault(c, []).append((r, p))
            b = [p for _, p in runs.get(base, [])]
            bmed = statistics.median(b) if b else None
            if phase == "A":
                base_a[n] = bmed
            rel, steps[(phase, n)] = relative_costs(seq, base)
            for c, rp in runs.items():
                vals = [p for _, p in rp]
                med = statistics.median(vals)
                e = {
                    "phase": phase,
                    "sources": n,
                    "rounds": len(vals),
                    "pps_median": med,
                    "pps_min": min(vals),
                    "pps_max": max(vals),
                    "pps_rounds": vals,
                    "ns_per_packet": ns_per_pkt(med),
                    "baseline": base,
                }
                if bmed and c != base and rel.get(c):
                    tb = 1e9 / bmed
                    by_round = {r: x * tb for r, x in rel[c].items()}
                    per = list(by_round.values())
                    e["delta_ns"] = statistics.median(per)
                    e["delta_ns_by_round"] = by_round
                    e["delta_ns_round_min"] = min(per)
                    e["delta_ns_round_max"] = max(per)
                    e["delta_ns_of_medians"] = 1e9 / med - tb
                elif c == base:
                    e["delta_ns"] = 0.0
                out.setdefault(c, {})[n] = e
    # phase B against the no-rule run of phase A: includes conntrack itself
    for c, byn in out.items():
        for n, e in byn.items():
            if e["phase"] == "B" and base_a.get(n):
                e["delta_ns_vs_no_conntrack"] = 1e9 / e["pps_median"] - 1e9 / base_a[n]
    return out, steps


# ---- memory ----------------------------------------------------------------

def read_snap(path):
    mem, slab = {}, {}
    sect = None
    try:
        f = open(path)
    except OSError:
        return None
    with f:
        for l in f:
            l = l.strip()
            if l.startswith("# meminfo"):
                sect = "m"
                continue
            if l.startswith("# slabinfo"):
                sect = "s"
                continue
            if not l:
                continue
            if sect == "m":
                k, v = l.split(":", 1)
                mem[k] = int(v.split()[0]) * 1024
            elif sect == "s":
                p = l.split()
                if len(p) < 7:
                    continue
                name = p[0]
                active, num, size, _per, pps, slabs = map(int, p[1:7])
                slab[name] = {"active": active, "objsize": size,
                              "bytes": slabs * pps * 4096}
    return mem, slab


# Contenders whose state is per rule: their tables were filled through all
# K rules of their chain, so their memory is K tables' (see guest.sh).
PER_RULE_STATE = ("connlimit",)


def memory(raw, k=1):
    res = {}
    for key, path in raw_files(raw, "mem", ".before"):
        phase, n, c = key.split("-", 2)
        n = int(n)
        a = read_snap(path)
        b = read_snap(path[:-len(".before")] + ".after")
        if not a or not b:
            continue
        (ma, sa), (mb, sb) = a, b
        div = n * (k if c in PER_RULE_STATE else 1)
        objs, pages, grew = 0, 0, []
        for name in set(sa) | set(sb):
            x = sa.get(name, {"active": 0, "objsize": 0, "bytes": 0})
            y = sb.get(name, {"active": 0, "objsize": 0, "bytes": 0})
            size = y["objsize"] or x["objsize"]
            dobj = y["active"] - x["active"]
            objs += dobj * size
            pages += y["bytes"] - x["bytes"]
            if dobj > n / 4:
                grew.append({"cache": name, "objects": dobj, "objsize": size})
        grew.sort(key=lambda g: -g["objects"] * g["objsize"])
        vm = mb.get("VmallocUsed", 0) - ma.get("VmallocUsed", 0)
        free = ma.get("MemFree", 0) - mb.get("MemFree", 0)
        res.setdefault(c, {})[n] = {
            "phase": phase,
            "entries": n,
            "tables": div // n,
            "slab_object_bytes_per_entry": objs / div,
            "slab_page_bytes_per_entry": pages / div,
            "vmalloc_bytes_per_entry": vm / div,
            "memfree_drop_bytes_per_entry": free / div,
            "caches": grew[:4],
        }
    return res


def prefill(raw):
    res = {}
    for l in read_lines(os.path.join(raw, "prefill.tsv")):
        f = l.split()
        if len(f) != 6:
            continue
        phase, n, c, t0, t1, cnt = f
        dt = float(t1) - float(t0)
        if dt > 0:
            res.setdefault(c, {})[int(n)] = {"seconds": dt, "pps": int(cnt) / dt}
    return res


# ---- GC --------------------------------------------------------------------

def gc(raw, outdir):
    """The packet rate while GC reclaims a table of expiring entries.

    Samples: pkts counter, kernel memory holding tables (slab + vmalloc,
    kB) and, for ratewin, the table's entry count (-1 where there is
    none; older runs have slab alone and no count). The sweep runs from
    the first 2% of the table reclaimed to the last of 98% of its entries
    reclaimed and 98% of its memory released: hashlimit frees each entry
    as it goes, ratewin marks them reclaimed and then frees its array at
    once, in a rebuild that is part of the sweep."""
    res = {}
    for c, path in raw_files(raw, "gc", ".tsv"):
        sweep = None
        rows = []
        with open(path) as f:
            for l in f:
                p = l.split()
                if l.startswith("# sweep"):
                    sweep = (float(p[2]), float(p[3]), int(p[4]))
                    expire_ms = int(p[6]) if len(p) > 6 else None
                    continue
                if len(p) in (4, 5) and not l.startswith("#"):
                    rows.append(((float(p[0]) + float(p[1])) / 2, int(p[2]), int(p[3]),
                                 int(p[4]) if len(p) == 5 else -1))
        if not sweep or len(rows) < 5:
            continue
        t_end = sweep[1]
        series = []
        for (ta, na, _, _), (tb, nb, mb, eb) in zip(rows, rows[1:]):
            if tb <= ta:
                continue
            if HOSTCPU is not None and HOSTCPU.ok:
                b = HOSTCPU.busy(ta, tb, 1)
                if not b or b[0] < 0.05 * (tb - ta):
                    continue
                series.append((tb - t_end, (nb - na) / b[0], mb, eb))
            else:
                series.append((tb - t_end, (nb - na) / (tb - ta), mb, eb))
        pps = [s[1] for s in series]
        med = statistics.median(pps)
        srt = sorted(pps)
        p5 = srt[max(0, int(len(srt) * 0.05) - 1)]
        mem0 = series[0][2]
        mem1 = min(s[2] for s in series)
        rel = mem0 - mem1
        counted = all(s[3] >= 0 for s in series)
        ent0 = series[0][3] if counted else None
        ent_rel = ent0 - min(s[3] for s in series) if counted else 0

        def first(pred):
            return next((i for i, s in enumerate(series) if pred(s)), None)

        def freed(part):
            """index of the first sample with this part of the memory released"""
            return first(lambda s: rel > 0 and mem0 - s[2] >= part * rel)

        def gone(part):
            """index of the first sample with this part of the entries reclaimed"""
            if not counted:
                return freed(part)
            return first(lambda s: ent_rel > 0 and ent0 - s[3] >= part * ent_rel)
        i90 = freed(0.9)
        t90 = series[i90][0] if i90 is not None else None
        # The sweep: from the first 2% of the table reclaimed to 98% of it
        # reclaimed and released; the rate in it against the median rate
        # before it. (The host's own changes of speed show up anywhere in
        # the stream: a minimum over all of it is as likely to be one of
        # them as the sweep's.)
        i0 = gone(0.02)
        # (a table that keeps its memory, its array at the size asked
        # for, ends when its entries are reclaimed)
        ends = [gone(0.98)] + ([freed(0.98)] if counted and rel > 0 else [])
        i1 = None if None in ends else max(ends)
        sweep_pps = [s[1] for s in series[i0:i1 + 1]] if i0 is not None and i1 is not None else []
        before = [s[1] for s in series[:i0]] if i0 else []
        bmed = statistics.median(before) if before else med
        res[c] = {
            "entries": sweep[2],
            "expire_ms": expire_ms,
            # entries made early in a fill longer than the expiry were
            # reclaimed during the fill: then this is not the test it means
            "valid": expire_ms is None or (sweep[1] - sweep[0]) * 1000 < expire_ms,
            "sweep_seconds": sweep[1] - sweep[0],
            "samples": len(series),
            "pps_median": med,
            "pps_min": srt[0],
            "pps_p5": p5,
            "min_over_median": srt[0] / med if med else None,
            "p5_over_median": p5 / med if med else None,
            "memory_released_mb": rel / 1024,
            "reclaimed_90pct_after_s": t90,
            "sweep_from_s": series[i0][0] if sweep_pps else None,
            "sweep_to_s": series[i1][0] if sweep_pps else None,
            "pps_median_before_sweep": bmed,
            "pps_min_in_sweep": min(sweep_pps) if sweep_pps else None,
            "sweep_min_over_before": min(sweep_pps) / bmed if sweep_pps and bmed else None,
            "sweep_median_over_before": (statistics.median(sweep_pps) / bmed
                                         if sweep_pps and bmed else None),
        }
        with open(os.path.join(outdir, "gc-%s.dat" % c), "w") as f:
            f.write("# seconds-after-fill pps table_memory_MB\n")
            for s in series:
                f.write("%.3f %.0f %.1f\n" % (s[0], s[1], s[2] / 1024))
    return res


# ---- scaling ---------------------------------------------------------------

def scaling(raw):
    t = {}
    for l in read_lines(os.path.join(raw, "scale.tsv")):
        f = l.split()
        if len(f) != 10:
            continue
        n, rnd, c, th = int(f[0]), int(f[1]), f[2], int(f[3])
        p = pps_of(*f[4:10], threads=th)
        if p:
            t.setdefault(n, {}).setdefault(c, {}).setdefault(th, {})[rnd] = p
    res = {}
    for n in t:
        for c in t[n]:
            one = t[n][c].get(1, {})
            two = t[n][c].get(2, {})
            if not one or not two:
                continue
            per = [two[r] / one[r] for r in one if r in two]
            res.setdefault(c, {})[n] = {
                "pps_1": statistics.median(one.values()),
                "pps_2": statistics.median(two.values()),
                "ratio": statistics.median(two.values()) / statistics.median(one.values()),
                "ratio_round_min": min(per) if per else None,
                "ratio_round_max": max(per) if per else None,
            }
    return res


# ---- profiles --------------------------------------------------------------

def profiles(raw):
    """Top symbols of each perf report (perf/<phase>-<n>-<contender>.txt)."""
    res = {}
    for name, path in raw_files(raw, "perf", ".txt", but=(".hot.txt",)):
        top = []
        for l in read_lines(path):
            p = l.split()
            if len(p) >= 4 and p[0].endswith("%"):
                # overhead, dso, [k], symbol
                top.append({"pct": float(p[0][:-1]), "dso": p[1], "sym": p[-1]})
        res[name] = top
    return res


def hot_blocks(raw):
    """ratewin's hottest code blocks in each profile (tests/bench/hotspots.py
    output, perf/<name>.hot.txt): [(percent, [source lines of the reads
    in the blocks before])]"""
    res = {}
    for name, path in raw_files(raw, "perf", ".hot.txt"):
        blocks = []
        for l in read_lines(path):
            m = re.match(r"^\s*([\d.]+)%\s+(\S+)", l)
            if m:
                blocks.append((float(m.group(1)), m.group(2), []))
                continue
            m = re.match(r"^\s+\+0x[0-9a-f]+\s+.*\s(\S+ \S+:\d+)$", l)
            if m and blocks and m.group(1) not in blocks[-1][2]:
                blocks[-1][2].append(m.group(1))
        res[name] = blocks
    return res


# ---- targets ---------------------------------------------------------------

# delta at the most sources <= SCALE_MAX x delta at the fewest
SCALE_MAX = 1.5


def targets(summ, mem, gcres, scale, ns):
    def d(c, n):
        return summ.get(c, {}).get(n, {}).get("delta_ns")

    lo, hi = (min(ns), max(ns)) if ns else (None, None)
    out = []

    def add(name, value, limit, cmp, detail):
        ok = None
        if value is not None:
            # judged as shown (two decimals): 64.0003 bytes per entry is
            # 64-byte objects plus a few unrelated allocations
            v = round(value, 2)
            ok = v <= limit if cmp == "<=" else v >= limit
        out.append({"target": name, "value": value, "limit": limit, "cmp": cmp,
                    "met": ok, "detail": detail})

    for n in (lo, hi):
        if n is None:
            continue
        add("rate-only delta / hashlimit delta at %s sources" % nlabel(n),
            ratio(d("rw-rate", n), d("hashlimit", n)), 0.8, "<=",
            "%s / %s ns" % (fmt_ns(d("rw-rate", n)), fmt_ns(d("hashlimit", n))))
    for n in ns:
        add("window-only delta / recent delta at %s sources" % nlabel(n),
            ratio(d("rw-window", n), d("recent", n)), 0.5, "<=",
            "%s / %s ns" % (fmt_ns(d("rw-window", n)), fmt_ns(d("recent", n))))
    for n in ns:
        add("all three delta / hashlimit delta (both conntrack on) at %s sources" % nlabel(n),
            ratio(d("rw-all", n), d("hashlimit-ct", n)), 1.2, "<=",
            "%s / %s ns" % (fmt_ns(d("rw-all", n)), fmt_ns(d("hashlimit-ct", n))))
        add("all three delta / hashlimit delta (phase A, no conntrack) at %s sources" % nlabel(n),
            ratio(d("rw-all", n), d("hashlimit", n)), 1.2, "<=",
            "%s / %s ns" % (fmt_ns(d("rw-all", n)), fmt_ns(d("hashlimit", n))))
    if lo is not None and hi != lo:
        for c in ("rw-rate", "rw-window", "rw-conn", "rw-all"):
            add("%s: delta at %s / delta at %s" % (c, nlabel(hi), nlabel(lo)),
                ratio(d(c, hi), d(c, lo)), SCALE_MAX, "<=",
                "%s / %s ns" % (fmt_ns(d(c, hi)), fmt_ns(d(c, lo))))
    for c in ("rw-rate", "rw-window"):
        for n, s in sorted(scale.get(c, {}).items()):
            add("%s: 2 threads / 1 thread, %s sources each" % (c, nlabel(n)),
                s["ratio"], 1.6, ">=",
                "%s / %s pps; no rule: %s" % (fmt_k(s["pps_2"]), fmt_k(s["pps_1"]),
                                             fmt_ratio(scale.get("none", {}).get(n, {}).get("ratio"))))
    # All the memory an entry takes: its slab object and its share of the
    # hash table (vmalloc), where the entries live in one or the other.
    def total(m):
        return m and m["slab_object_bytes_per_entry"] + m["vmalloc_bytes_per_entry"]
    for c, label, limit in (("rw-rate", "rate-only", 64), ("rw-window", "window N=8", 128)):
        m = mem.get(c, {}).get(hi)
        add("bytes per entry, %s (slab objects + vmalloc at %s)" % (label, nlabel(hi or 0)),
            total(m), limit, "<=",
            m and "slab objects %.1f B, vmalloc %.1f B per entry" % (
                m["slab_object_bytes_per_entry"], m["vmalloc_bytes_per_entry"]))
    g_rw = gcres.get("rw-rate")
    g_hl = gcres.get("hashlimit")
    name = "GC dip: ratewin's lowest rate while GC frees the table / its rate before, not below hashlimit's"
    if g_rw and g_hl and not (g_rw["valid"] and g_hl["valid"]):
        out.append({"target": name, "value": None, "limit": None, "cmp": ">=", "met": None,
                    "detail": "not measured: the fill took %.0f s / %.0f s, longer than the "
                              "%.0f s expiry (BENCH_GC_EXPIRE_MS)" % (
                                  g_rw["sweep_seconds"], g_hl["sweep_seconds"],
                                  (g_rw["expire_ms"] or 0) / 1000)})
    elif g_rw and g_hl and g_rw["sweep_min_over_before"] and g_hl["sweep_min_over_before"]:
        add(name, g_rw["sweep_min_over_before"], g_hl["sweep_min_over_before"], ">=",
            "ratewin %.2f, hashlimit %.2f (median in the sweep: %.2f vs %.2f)" % (
                g_rw["sweep_min_over_before"], g_hl["sweep_min_over_before"],
                g_rw["sweep_median_over_before"], g_hl["sweep_median_over_before"]))
    return out


# ---- output ----------------------------------------------------------------

def cold_lookup(L, summ, ns, k):
    """The delta at the most sources split into K warm lookups (the delta
    at one source, over K) and what the cold first lookup adds."""
    if len(ns) < 2:
        return
    lo, hi = min(ns), max(ns)
    rows = []
    for c in ORDER:
        dl = summ.get(c, {}).get(lo, {}).get("delta_ns")
        dh = summ.get(c, {}).get(hi, {}).get("delta_ns")
        if c.startswith(("none", "floor")) or dl is None or dh is None or dl <= 0:
            continue
        warm = dl / k
        rows.append("| %s | %.0f | %.0f | %.1f | %.2f |" % (
            c, warm, dh - dl, (dh - dl) / warm, dh / dl))
    if not rows:
        return
    L.append("### The cold lookup at %s sources" % nlabel(hi))
    L.append("")
    L.append("A warm lookup's cost is the delta at %s source(s) over K = %d; at %s "
             "sources the first of the K lookups of a packet is cold, and adds the "
             "difference of the two deltas. The target delta(%s) <= %.1f x delta(%s) "
             "asks that cold extra to stay within %.0f%% of K warm lookups."
             % (nlabel(lo), k, nlabel(hi), nlabel(hi), SCALE_MAX, nlabel(lo),
                (SCALE_MAX - 1) * 100))
    L.append("")
    L.append("| contender | warm lookup, ns | cold extra, ns | cold extra in warm lookups "
             "| delta(%s) / delta(%s) |" % (nlabel(hi), nlabel(lo)))
    L.append("|---|---|---|---|---|")
    L.extend(rows)
    L.append("")


def markdown(summ, steps, mem, pre, gcres, scale, tg, meta, host, ns, prof, hot):
    L = []
    order = [c for c in ORDER if c in summ] + sorted(c for c in summ if c not in ORDER)
    k = int(meta.get("k", "1") or 1)
    if k > 1:
        L.append("Amplified: each contender's chain holds K = %d identical non-terminating "
                 "rules (the floor's too), all naming one table where the match has named "
                 "tables (connlimit: one tree per rule), so every packet is matched K times: "
                 "the first lookup finds its entry cold, the other K-1 warm. Every delta "
                 "below is for K rules. Between contenders whose lookups cost alike "
                 "warm and cold, ratios change little with K; the ratio of a delta at "
                 "many sources to the delta at one does change: it is (K warm + cold) / "
                 "(K warm), as only the first lookup is cold (see \"The cold lookup\" "
                 "below). In a round every "
                 "contender runs once, between two runs without a rule, in an order "
                 "that rotates by round; %s s a run." % (k, meta.get("secs", "?")))
        L.append("")
    L.append("### Packets per second (median [min-max] over %s rounds; no rule: over all "
             "its runs)" % meta.get("rounds", "?"))
    L.append("")
    if meta.get("clock") == "cpu":
        L.append("Per second of host CPU time of the vCPU thread that ran pktgen (the "
                 "host is shared; its other load does not enter these figures).")
    else:
        L.append("Per second of guest wall time.")
    L.append("")
    L.append("| contender | " + " | ".join(nlabel(n) + " sources" for n in ns) + " |")
    L.append("|---|" + "---|" * len(ns))
    for c in order:
        row = []
        for n in ns:
            e = summ[c].get(n)
            row.append("-" if not e else "%s [%s-%s]" % (
                fmt_k(e["pps_median"]), fmt_k(e["pps_min"]), fmt_k(e["pps_max"])))
        L.append("| %s | %s |" % (LABEL.get(c, c), " | ".join(row)))
    L.append("")
    L.append("### Added cost per packet, ns (delta = 1e9/pps(rule) - 1e9/pps(no rule); "
             "median [min-max] over the rounds used)")
    L.append("")
    L.append("Each round's delta is taken against the two no-rule runs on either side "
             "of the rule's run, as a share of their time per packet, and given in ns "
             "of the median no-rule time per packet: a change of the host's speed "
             "between rounds, which slows every packet alike, cancels out. Phase B rows "
             "are against the no-rule runs with conntrack on; the \"+ct\" figure is "
             "taken from the medians, against phase A's no rule, conntrack included.")
    L.append("")
    if any(v[2] for v in steps.values()):
        L.append("Runs whose two no-rule neighbours differ by more than %d%% (the host "
                 "changed speed around them), of all runs, and how many of them are "
                 "left out (while %d rounds of the contender are left): %s." % (
                     round(MODE_STEP * 100), MIN_STEADY, ", ".join(
                         "%s-%s %d of %d, %d out" % (ph, nlabel(n), v[1], v[2], v[0])
                         for (ph, n), v in sorted(
                             steps.items(), key=lambda x: (x[0][1], x[0][0])))))
        L.append("")
    L.append("| contender | " + " | ".join(nlabel(n) for n in ns) + " |")
    L.append("|---|" + "---|" * len(ns))
    for c in order:
        if c in PHASE_BASE.values():
            continue
        row = []
        for n in ns:
            e = summ[c].get(n)
            if not e or e.get("delta_ns") is None:
                row.append("-")
                continue
            s = fmt_ns(e["delta_ns"])
            if "delta_ns_round_min" in e:
                s += " [%s..%s]" % (fmt_ns(e["delta_ns_round_min"]), fmt_ns(e["delta_ns_round_max"]))
            if "delta_ns_vs_no_conntrack" in e:
                s += " (+ct %s)" % fmt_ns(e["delta_ns_vs_no_conntrack"])
            row.append(s)
        L.append("| %s | %s |" % (LABEL.get(c, c), " | ".join(row)))
    ct = summ.get("none-ct")
    if ct:
        L.append("| conntrack itself (no rule) | %s |" % " | ".join(
            fmt_ns(ct[n].get("delta_ns_vs_no_conntrack")) if n in ct else "-" for n in ns))
    L.append("")
    L.append("### Ratios of ratewin's delta to the anchors'")
    L.append("")
    pairs = [("rw-rate", "hashlimit"), ("rw-rate", "nft"), ("rw-rate", "recent"),
             ("rw-window", "recent"), ("rw-window", "hashlimit"),
             ("rw-conn", "connlimit"), ("rw-all", "hashlimit-ct"), ("rw-all", "hashlimit"),
             ("rw-all", "connlimit")]

    def pair_table(head, cell, across_phases=True):
        """One row per pair, one cell(a, b, n) per source count. Without
        across_phases, no row for a pair whose two sides are measured in
        different phases (rw-all of phase B against hashlimit of A)."""
        L.append("| %s | " % head + " | ".join(nlabel(n) for n in ns) + " |")
        L.append("|---|" + "---|" * len(ns))
        for a, b in pairs:
            if not across_phases and (a, b) == ("rw-all", "hashlimit"):
                continue
            L.append("| %s / %s | %s |" % (a, b, " | ".join(cell(a, b, n) for n in ns)))
        L.append("")

    def delta(c, n):
        return summ.get(c, {}).get(n, {}).get("delta_ns")
    pair_table("ratio", lambda a, b, n: fmt_ratio(ratio(delta(a, n), delta(b, n))))
    # For information (the targets use the deltas above): the same ratios
    # with the floor's delta taken off both sides, i.e. what the match
    # itself adds beyond calling a match at all.
    L.append("For information, the same ratios above the floor, (delta - floor) / "
             "(anchor - floor), the floor of the contender's phase (targets use the "
             "ratios above):")
    L.append("")

    def above(c, n):
        e = summ.get(c, {}).get(n, {})
        f = summ.get("floor-ct" if e.get("phase") == "B" else "floor", {}).get(n, {})
        if e.get("delta_ns") is None or f.get("delta_ns") is None:
            return None
        return e["delta_ns"] - f["delta_ns"]
    pair_table("ratio above the floor",
               lambda a, b, n: fmt_ratio(ratio(above(a, n), above(b, n))), False)
    # For information too: the ratio of two contenders' deltas round by
    # round (rounds where both were used), its median and spread, beside
    # the ratio of their medians above.
    L.append("For information, the median of the per-round ratios [min-max], over "
             "the rounds used for both contenders (targets use the ratios above):")
    L.append("")

    def per_round(a, b, n):
        da = summ.get(a, {}).get(n, {}).get("delta_ns_by_round") or {}
        db = summ.get(b, {}).get(n, {}).get("delta_ns_by_round") or {}
        rs = sorted(da[r] / db[r] for r in da if r in db and db[r] > 0)
        if not rs:
            return "-"
        return "%.2f [%.2f-%.2f]" % (statistics.median(rs), rs[0], rs[-1])
    pair_table("per-round ratio", per_round, False)
    cold_lookup(L, summ, ns, k)
    if mem:
        L.append("### Memory per entry (table filled by one sweep of N sources)")
        L.append("")
        L.append("Filled through a chain of one rule by %s pktgen thread(s); connlimit, whose "
                 "state is per rule, through its K rules: its figures are divided by K."
                 % meta.get("fill_threads", "1"))
        L.append("")
        L.append("| contender | entries | slab objects B/entry | slab pages B/entry | "
                 "vmalloc B/entry | caches that grew | fill rate |")
        L.append("|---|---|---|---|---|---|---|")
        for c in [x for x in ["conntrack"] + ORDER if x in mem] + sorted(x for x in mem if x not in ORDER and x != "conntrack"):
            for n in sorted(mem[c]):
                if n < 65536:
                    continue
                m = mem[c][n]
                caches = ", ".join("%s(%d B)" % (g["cache"], g["objsize"]) for g in m["caches"])
                pr = pre.get(c, {}).get(n)
                L.append("| %s | %s | %.0f | %.0f | %.1f | %s | %s |" % (
                    LABEL.get(c, c), nlabel(n), m["slab_object_bytes_per_entry"],
                    m["slab_page_bytes_per_entry"], m["vmalloc_bytes_per_entry"],
                    caches or "-", fmt_k(pr["pps"]) + " pps" if pr else "-"))
        L.append("")
    if gcres:
        L.append("### Packet rate while GC reclaims a full table of expiring entries")
        L.append("")
        L.append("Packets per second between samples of the stream (0.1 s apart plus the "
                 "time to take one, about 0.2 s in all). The sweep runs from "
                 "the first 2% of the table reclaimed to 98% of its entries reclaimed (ratewin's "
                 "count; hashlimit's slab) and of its memory (slab and vmalloc) released: "
                 "ratewin frees its array at once, in a rebuild at the end of the sweep. Its "
                 "rates are against the median before it. The whole stream's minimum is for information: the "
                 "host's own changes of speed show up anywhere in it.")
        L.append("")
        L.append("| contender | entries | fill | median before the sweep | sweep | lowest in it "
                 "| lowest / before | median in it / before | whole stream: min / median "
                 "| memory released | 90% released at |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")

        def r2(x):
            return "-" if x is None else "%.2f" % x
        for c, g in sorted(gcres.items()):
            L.append("| %s | %s | %.0f s%s | %s | %s | %s | %s | %s | %.2f | %.0f MB | %s |" % (
                LABEL.get(c, c), nlabel(g["entries"]), g["sweep_seconds"],
                "" if g["valid"] else " (> expiry: invalid)",
                fmt_k(g["pps_median_before_sweep"]),
                "-" if g["sweep_from_s"] is None else "%.1f-%.1f s after the fill" % (
                    g["sweep_from_s"], g["sweep_to_s"]),
                fmt_k(g["pps_min_in_sweep"]), r2(g["sweep_min_over_before"]),
                r2(g["sweep_median_over_before"]), g["min_over_median"],
                g["memory_released_mb"],
                "-" if g["reclaimed_90pct_after_s"] is None else
                "%.1f s after the fill" % g["reclaimed_90pct_after_s"]))
        L.append("")
    if scale:
        L.append("### Two pktgen threads (both vCPUs, distinct sources) against one")
        L.append("")
        L.append("| contender | sources per thread | 1 thread pps | 2 threads pps | ratio [round min-max] |")
        L.append("|---|---|---|---|---|")
        for c in [x for x in ORDER if x in scale]:
            for n, s in sorted(scale[c].items()):
                L.append("| %s | %s | %s | %s | %.2f [%.2f-%.2f] |" % (
                    LABEL.get(c, c), nlabel(n), fmt_k(s["pps_1"]), fmt_k(s["pps_2"]),
                    s["ratio"], s["ratio_round_min"], s["ratio_round_max"]))
        L.append("")
    if prof:
        L.append("### Profiles (perf -e cpu-clock on the pktgen CPU; top symbols, % of samples)")
        L.append("")
        for k, top in prof.items():
            L.append("- %s: %s" % (k, ", ".join(
                "%s %.1f%%" % (t["sym"], t["pct"]) for t in top[:8])))
        if hot:
            L.append("")
            L.append("ratewin's code blocks that take 2% of the samples or more "
                     "(tests/bench/hotspots.py; under TCG a sample lands after the "
                     "block that spent the time, so each is given with the source "
                     "lines of the memory reads in the blocks before it):")
            L.append("")
            for k, blocks in hot.items():
                L.append("- %s: %s" % (k, "; ".join(
                    "%.1f%% at %s, after %s" % (p, at, ", ".join(src) or "its caller")
                    for p, at, src in blocks) or "none"))
        L.append("")
    L.append("### Targets (ratios in this run; the benchmark reports, it does not assert)")
    L.append("")
    L.append("| target | measured | limit | met | detail |")
    L.append("|---|---|---|---|---|")
    for t in tg:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        v = "-" if t["value"] is None else "%.2f" % t["value"]
        L.append("| %s | %s | %s %s | %s | %s |" % (
            t["target"], v, t["cmp"], "%.2f" % t["limit"] if isinstance(t["limit"], float) else t["limit"],
            met, t["detail"] or ""))
    L.append("")
    L.append("Run: guest %s, %s vCPUs, HZ=%s; %s; host %s; %s rounds of %s s per contender, "
             "K = %s rules per contender; phase B at %s sources, connlimit up to %s."
             % (meta.get("kernel", "?"), meta.get("cpus", "?"), meta.get("hz", "?"),
                host.get("accel", "?"), host.get("cpu", "?"), meta.get("rounds", "?"),
                meta.get("secs", "?"), meta.get("k", "1"),
                ", ".join(nlabel(x) for x in meta.get("sources_B", "").split()) or "all",
                nlabel(meta["connlimit_max"]) if meta.get("connlimit_max") else "all"))
    if host.get("run_seconds"):
        wait = int(host.get("slot_wait_seconds", "0") or 0)
        L.append("Whole run (build, boot, measurement, analysis): %d s%s; host load %s at "
                 "the start, %s at the end." % (
                     int(host["run_seconds"]) - wait,
                     " (not counting %d s spent waiting for another VM run to end)" % wait
                     if wait else "",
                     host.get("loadavg_start", "?"), host.get("loadavg_end", "?")))
    return "\n".join(L) + "\n"


def main():
    global HOSTCPU
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    raw = os.path.join(outdir, "raw")
    HOSTCPU = HostCpu(outdir, raw)
    if len(sys.argv) == 3 and sys.argv[2] == "--wall":
        HOSTCPU.ok = False
    clock = "cpu" if HOSTCPU.ok else "wall"
    meta = read_kv(os.path.join(raw, "meta.txt"))
    host = read_kv(os.path.join(outdir, "host.txt"))
    # tests/vm/run.sh says how long it queued behind other VM runs
    for l in read_lines(os.path.join(outdir, "vm.txt")):
        if l.startswith("vm: waited ") and l.endswith("s for a VM slot"):
            host["slot_wait_seconds"] = l.split()[2][:-1]
    t = throughput(raw)
    summ, steps = summarize(t)
    ns = sorted({n for ph in t.values() for n in ph})
    mem = memory(raw, int(meta.get("k", "1") or 1))
    pre = prefill(raw)
    gcres = gc(raw, outdir)
    scale = scaling(raw)
    tg = targets(summ, mem, gcres, scale, ns)

    # delta.dat: one row per source count, one column per contender
    cols = [c for c in ORDER if c in summ and c not in PHASE_BASE.values()]
    with open(os.path.join(outdir, "delta.dat"), "w") as f:
        f.write("sources " + " ".join(PLOT_LABEL.get(c, c) for c in cols) + "\n")
        for n in ns:
            vals = []
            for c in cols:
                v = summ[c].get(n, {}).get("delta_ns")
                vals.append("NaN" if v is None else "%.1f" % v)
            f.write("%d %s\n" % (n, " ".join(vals)))

    stages = {}
    for l in read_lines(os.path.join(raw, "stages.txt")):
        p = l.split()
        if len(p) == 4:
            stages[p[1]] = float(p[3]) - float(p[2])
    res = {"meta": meta, "host": host, "clock": clock,
           "clock_offset_s": HOSTCPU.offset,
           "sources": ns, "throughput": summ,
           "speed_steps": {"%s-%d" % k: list(v) for k, v in steps.items()},
           "memory": mem, "prefill": pre, "gc": gcres, "scaling": scale,
           "targets": tg, "stage_seconds": stages}
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    prof = profiles(raw)
    res["profiles"] = prof
    meta["clock"] = clock
    md = markdown(summ, steps, mem, pre, gcres, scale, tg, meta, host, ns, prof,
                  hot_blocks(raw))
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the hand-made seeds of the fuzz corpora (tests/fuzz/corpus/):

  plugin/seed-*  every ratewin rule of userspace/libxt_ratewin.t (accepted
                 and refused ones) and the examples of SPEC section 3
  proc/seed-*    /proc write commands for each key mode (fuzz_proc.c's
                 layout: mode, four prefix lengths, then the write)

The rest of each corpus is what libFuzzer found (make fuzz-merge). Run
from anywhere; rewrites only seed-* files."""
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def put(kind, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def plugin():
    rules = set()
    with open(os.path.join(SRC, "userspace", "libxt_ratewin.t")) as f:
        for line in f:
            if line.startswith(("#", ":")) or ";" not in line:
                continue
            fields = line.rstrip("\n").split(";")
            m = re.search(r"-m ratewin (.*?)(?: -j \S+)?$", fields[0])
            if not m:
                continue
            fam = fields[3] if len(fields) > 3 else ""
            rules.add(("-6 " if fam == "6" else "") + m.group(1))
    rules.update([
        "--ratewin-name ssh --ratewin-window 5/60s",
        "--ratewin-name http --ratewin-rate 50/minute --ratewin-burst 60 "
        "--ratewin-srcmask 24",
        "-6 --ratewin-name web --ratewin-rate 10/s --ratewin-window 100/1m "
        "--ratewin-conn-above 20 --ratewin-ban 10m",
        "--ratewin-name slow --ratewin-rate 1/day --ratewin-burst 1000000",
        "--ratewin-name long --ratewin-window 1000000/30d --ratewin-ban 30d",
        "--ratewin-name=eq --ratewin-window=3/1s --ratewin-count-all",
        "--ratewin-name \"q.1\" --ratewin-mode dstip,dstport "
        "--ratewin-dstmask 16 --ratewin-conn-above 0",
    ])
    for r in sorted(rules):
        put("plugin", r.encode())


def proc():
    # (mode, src4, src6, dst4, dst6)
    specs = {
        "srcip": (1, 32, 128, 32, 128),
        "srcip/24": (1, 24, 64, 32, 128),
        "dstip": (2, 32, 128, 32, 128),
        "srcip,dstip": (3, 32, 128, 16, 48),
        "dport": (8, 32, 128, 32, 128),
        "sport,dport": (12, 32, 128, 32, 128),
        "all": (15, 20, 100, 8, 7),
    }
    cmds = {
        "srcip": ["/", "/\n", "-1.2.3.4", "+1.2.3.4\n", "-src=1.2.3.4",
                  "-2001:db8::1", "+src=::ffff:1.2.3.4", "-1.2.3.4 ",
                  "-01.2.3.4", "-1.2.3.4/32", "-::", "-1:2:3:4:5:6:7:8"],
        "srcip/24": ["-1.2.3.0/24", "-1.2.3.4/24", "-2001:db8::/64",
                     "+src=10.0.0.0/24", "-1.2.3.0"],
        "dstip": ["-dst=192.0.2.1", "+192.0.2.1", "-src=192.0.2.1"],
        "srcip,dstip": ["-src=1.2.3.4 dst=5.6.0.0/16",
                        "+dst=5.6.0.0/16 src=1.2.3.4",
                        "-src=::1 dst=2001:db8::/48",
                        "-src=1.2.3.4 dst=::1"],
        "dport": ["-dport=22 family=ipv4", "+family=ipv6 dport=65535",
                  "-dport=65536 family=ipv4", "-dport=22"],
        "sport,dport": ["-sport=1024 dport=22 family=ipv4",
                        "+dport=0 sport=0 family=ipv6\n"],
        "all": ["-src=1.2.0.0/20 dst=0.0.0.0/8 sport=1 dport=2",
                "+src=2001:db8::/100 dst=::/7 sport=65535 dport=80"],
    }
    for name, spec in specs.items():
        for c in cmds[name]:
            put("proc", bytes(spec) + c.encode())


plugin()
proc()

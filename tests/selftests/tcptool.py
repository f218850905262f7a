#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TCP traffic for the ratewin suites.

  tcptool.py serve PORT [PORT6]   accept forever, keep connections until the
                                  peer closes (IPv4 and IPv6)
  tcptool.py attempts HOST PORT INTERVAL SECONDS [HZ]
                                  open a new connection every INTERVAL s for
                                  SECONDS s; print "SENT DONE RESULT" per
                                  attempt (RESULT ok|refused|timeout): the
                                  seconds from the start when the attempt
                                  began and ended, by the monotonic clock,
                                  or with HZ by the kernel's jiffies (the
                                  module's clock, which a starved guest can
                                  have lagging behind the monotonic one)
  tcptool.py hold HOST PORT N     open N connections and keep them; print
                                  "open I ok|refused" per attempt, then read
                                  commands on stdin: "close I", "open",
                                  "quit"
  tcptool.py windows FILE N SPAN MAXGAP MIN [JIFFY]
                                  check an attempts log: no N+1 admitted
                                  attempts fit in SPAN-JIFFY s even at their
                                  widest (first sent to last done), no gap
                                  between admissions exceeds MAXGAP, and at
                                  least MIN were admitted
"""
import selectors
import socket
import sys
import time


def connect(host, port, timeout=3.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return s, "ok"
    except ConnectionRefusedError:
        s.close()
        return None, "refused"
    except (socket.timeout, OSError):
        s.close()
        return None, "timeout"


def serve(port):
    sel = selectors.DefaultSelector()
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        s.listen(256)
        sel.register(s, selectors.EVENT_READ, "listen")
    print("listening", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                c, _ = key.fileobj.accept()
                sel.register(c, selectors.EVENT_READ, "conn")
            else:
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


def jiffies():
    with open("/proc/timer_list") as f:
        for line in f:
            if line.startswith("jiffies: "):
                return int(line.split()[1])
    raise RuntimeError("no jiffies in /proc/timer_list")


def attempts(host, port, interval, seconds, hz=None):
    if hz:
        j0 = jiffies()

        def clock():
            return (jiffies() - j0) / hz
    else:
        clock = time.monotonic
    start = time.monotonic()
    c0 = clock()
    n = 0
    while True:
        t = start + n * interval
        now = time.monotonic()
        if t - start > seconds:
            break
        if t > now:
            time.sleep(t - now)
        sent = clock()
        s, res = connect(host, port)
        done = clock()
        if s:
            s.close()
        print("%.3f %.3f %s" % (sent - c0, done - c0, res), flush=True)
        n += 1


def hold(host, port, n):
    conns = []
    for i in range(n):
        s, res = connect(host, port, 10.0)
        conns.append(s)
        print("open %d %s" % (i, res), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "close":
            i = int(cmd[1])
            if conns[i]:
                conns[i].close()
                conns[i] = None
            print("closed %d" % i, flush=True)
        elif cmd[0] == "open":
            s, res = connect(host, port, 10.0)
            conns.append(s)
            print("open %d %s" % (len(conns) - 1, res), flush=True)
        elif cmd[0] == "quit":
            break


def windows(path, n, span):
    """An attempt's SYN meets the rule between its start and its end, so
    N+1 admissions break "N in any SPAN" for certain only when the first's
    start and the last's end lie within SPAN: the check never blames the
    module for a slow connect, and a real breach is caught as long as
    connects are quick."""
    adm = []
    with open(path) as f:
        for line in f:
            sent, done, res = line.split()
            if res == "ok":
                adm.append((float(sent), float(done)))
    tightest = min((adm[i + n][1] - adm[i][0] for i in range(len(adm) - n)),
                   default=float("inf"))
    gaps = [b[0] - a[0] for a, b in zip(adm, adm[1:])]
    gap = max(gaps) if gaps else float("inf")
    print("admitted %d, tightest %d admissions span %.3fs, longest gap %.3fs"
          % (len(adm), n + 1, tightest, gap))
    return len(adm), tightest, gap


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(int(sys.argv[2]))
    elif cmd == "attempts":
        attempts(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                 float(sys.argv[5]),
                 int(sys.argv[6]) if len(sys.argv) > 6 else None)
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "windows":
        n, span = int(sys.argv[3]), float(sys.argv[4])
        maxgap, minadm = float(sys.argv[5]), int(sys.argv[6])
        jiffy = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
        count, tightest, gap = windows(sys.argv[2], n, span)
        # exact at timer resolution: arrivals DURATION of jiffies apart
        # can be up to one jiffy less apart in real time
        ok = tightest >= span - jiffy and gap <= maxgap and count >= minadm
        sys.exit(0 if ok else 1)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TCP traffic for the ratewin suites.

  tcptool.py serve PORT [PORT6]   accept forever, keep connections until the
                                  peer closes (IPv4 and IPv6)
  tcptool.py attempts HOST PORT INTERVAL SECONDS
                                  open a new connection every INTERVAL s for
                                  SECONDS s; print "T ok|refused|timeout" per
                                  attempt, T in seconds (monotonic) at send
  tcptool.py hold HOST PORT N     open N connections and keep them; print
                                  "open I ok|refused" per attempt, then read
                                  commands on stdin: "close I", "open",
                                  "quit"
  tcptool.py windows FILE N SPAN TOL
                                  check an attempts log: no SPAN-TOL s span
                                  holds more than N admitted, and no gap
                                  between admissions exceeds SPAN+3*interval
"""
import selectors
import socket
import sys
import time


def connect(host, port, timeout=1.0):
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


def attempts(host, port, interval, seconds):
    start = time.monotonic()
    n = 0
    while True:
        t = start + n * interval
        now = time.monotonic()
        if t - start > seconds:
            break
        if t > now:
            time.sleep(t - now)
        sent = time.monotonic()
        s, res = connect(host, port)
        if s:
            s.close()
        print("%.3f %s" % (sent - start, res), flush=True)
        n += 1


def hold(host, port, n):
    conns = []
    for i in range(n):
        s, res = connect(host, port)
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
            s, res = connect(host, port)
            conns.append(s)
            print("open %d %s" % (len(conns) - 1, res), flush=True)
        elif cmd[0] == "quit":
            break


def windows(path, n, span, tol):
    times = []
    with open(path) as f:
        for line in f:
            t, res = line.split()
            if res == "ok":
                times.append(float(t))
    worst = 0
    j = 0
    for i in range(len(times)):
        while times[i] - times[j] >= span - tol:
            j += 1
        worst = max(worst, i - j + 1)
    gaps = [b - a for a, b in zip(times, times[1:])]
    print("admitted %d, most in any %.2fs span %d, longest gap %.3fs"
          % (len(times), span - tol, worst, max(gaps) if gaps else 0))
    return times, worst, max(gaps) if gaps else float("inf")


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(int(sys.argv[2]))
    elif cmd == "attempts":
        attempts(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                 float(sys.argv[5]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "windows":
        n, span, tol = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
        maxgap = float(sys.argv[6]) if len(sys.argv) > 6 else span + 0.5
        minadm = int(sys.argv[7]) if len(sys.argv) > 7 else 1
        times, worst, gap = windows(sys.argv[2], n, span, tol)
        ok = worst <= n and gap <= maxgap and len(times) >= minadm
        sys.exit(0 if ok else 1)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()

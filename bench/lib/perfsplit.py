#!/usr/bin/env python3
"""perfsplit.py splits a CPU profile of one proxy process into where the
time goes, per request.

    perf record -F 999 -g -p PID -o perf.data -- sleep 8   # under load
    perf script -i perf.data -F tid,ip,sym > perf.txt
    bench/lib/perfsplit.py perf.txt [US_PER_REQUEST]        # Gatehouse's parts
    bench/lib/perfsplit.py --syscalls perf.txt [US]         # any process

Each sample is put in one part by its call stack: kernel time by the
syscall (and, for Gatehouse, by the Go code that made it), user time by
the runtime's parts (GC, allocation, scheduler, syscall glue, clocks)
and otherwise by the innermost Gatehouse package on the stack. With
US_PER_REQUEST (CPU microseconds per request, measured in the same run),
each share is also given in microseconds per request.
"""
import collections
import re
import sys


def samples(path):
    cur = []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                yield cur
            cur = []
            continue
        parts = line.split(None, 1)
        if len(parts) == 2 and re.fullmatch(r"[0-9a-f]+", parts[0]):
            cur.append((parts[0], parts[1]))
    if cur:
        yield cur


def has(st, pat):
    return any(pat in s for _, s in st)


def any_of(st, *pats):
    return any(has(st, p) for p in pats)


SYSCALLS = [
    ("do_writev", "kernel: writev"), ("ksys_write", "kernel: write"),
    ("__sys_sendto", "kernel: send"), ("ksys_read", "kernel: read"),
    ("__sys_recvfrom", "kernel: recv"), ("do_epoll_wait", "kernel: epoll_wait"),
    ("do_epoll_pwait", "kernel: epoll_wait"), ("epoll_ctl", "kernel: epoll_ctl"),
    ("getsockopt", "kernel: getsockopt"), ("futex", "kernel: futex"),
    ("nanosleep", "kernel: nanosleep"), ("accept", "kernel: accept"),
    ("splice", "kernel: splice"), ("sendfile", "kernel: sendfile"),
]


def by_syscall(st):
    if not st[0][0].startswith("ffffffff"):
        return "user space"
    for pat, label in SYSCALLS:
        if has(st, pat):
            return label
    return "kernel: other (interrupts, scheduling)"


def gatehouse(st):
    if st[0][0].startswith("ffffffff"):  # in the kernel: which syscall, for whom
        if has(st, "h1client"):
            if any_of(st, "wire).Write", "writeHead", "sendBody", "ReadFrom"):
                return "kernel: write request to upstream"
            return "kernel: read response from upstream"
        if any_of(st, "h1.(*response)", "writev"):
            return "kernel: write response to client"
        if has(st, "h1.(*conn)"):
            return "kernel: read request from client"
        if any_of(st, "epoll", "netpoll"):
            return "kernel: epoll (netpoll)"
        if any_of(st, "nanosleep", "futex", "usleep"):
            return "kernel: runtime sleep and wake-up"
        return "kernel: other (interrupts, scheduling)"
    leaf = st[0][1]
    if any_of(st, "gcBgMarkWorker", "gcAssistAlloc", "bgsweep", "bgscavenge", "gcDrain", "gcStart", "markroot"):
        return "runtime: GC"
    if any_of(st, "runtime.mallocgc", "runtime.newobject", "runtime.makemap", "runtime.growslice", "runtime.makeslice"):
        return "runtime: allocation"
    if any_of(st, "runtime.schedule", "runtime.findRunnable", "runtime.park_m", "runtime.gopark",
              "runtime.goready", "runtime.netpoll", "runtime.mcall", "runtime.ready"):
        return "runtime: scheduler and netpoll"
    if any_of(st, "SetReadDeadline", "SetWriteDeadline", "setDeadline", "pollSetDeadline",
              "time.Now", "runtime.modtimer", "clock_gettime", "nanotime"):
        return "deadlines and clocks"
    if "Syscall" in leaf or any_of(st, "runtime.exitsyscall", "runtime.entersyscall"):
        return "runtime: syscall entry and exit (user side)"
    for _, s in st:
        m = re.search(r"gatehouse-proxy/gatehouse/([a-z0-9_/]+)[.(]", s)
        if m:
            return "gatehouse: " + m.group(1)
    m = re.match(r"([a-zA-Z0-9_/]+)[.(]", leaf)
    return "other: " + (m.group(1) if m else leaf)


def main(argv):
    split = gatehouse
    if argv and argv[0] == "--syscalls":
        split, argv = by_syscall, argv[1:]
    if not argv:
        sys.exit(__doc__)
    per = float(argv[1]) if len(argv) > 1 else 0.0
    counts, n = collections.Counter(), 0
    for st in samples(argv[0]):
        counts[split(st)] += 1
        n += 1
    if n == 0:
        sys.exit("no samples in " + argv[0] + ": was it made with perf record -g and perf script -F tid,ip,sym?")
    for part, k in counts.most_common():
        us = f"  {k / n * per:6.2f} µs" if per else ""
        print(f"{k / n * 100:6.1f} %{us}  {part}")
    print(f"{n} samples")


if __name__ == "__main__":
    main(sys.argv[1:])

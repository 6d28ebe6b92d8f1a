#!/usr/bin/env python3
"""User-space instructions per echoed message, counted by callgrind.

    python3 bench/callgrind/instructions.py                 # the whole table
    python3 bench/callgrind/instructions.py --conns 100 --servers edgeloop-rw --top 15

Each server runs twice under `valgrind --tool=callgrind`, loaded by a
fixed-count closed-loop client (CONNS connections; in each round every one
sends 64 B and reads the echo back): once for 20,000 messages and once for
120,000. (Ir(120k) - Ir(20k)) / 100,000 cancels start-up and connection
set-up, so what is left is the cost of one message. At 1 connection the
count repeats to the instruction; at many, how events batch per
`epoll_wait` varies a little with timing (a few instructions a message).

Two things valgrind does not see: it does not know `epoll_pwait2`, so
edgeloop falls back to `epoll_wait` under it (tokio and the epoll loop use
`epoll_wait` anyway); and the vDSO's clock reads run outside its count.

Servers:
  example      examples/echo_server.rs: one shared scratch buffer, write
               straight back in the same poll
  edgeloop-rw  tokio's program on edgeloop: a task per connection, its own
               4 KiB buffer, `read` then `write_all` (the yardstick)
  tokio        tokio current_thread, that same program
  tokio-io     the same without tokio's time driver (enable_io); not in the
               default list
  epoll        the hand-written epoll loop, trusting short reads

--spawn counts, instead, the instructions per spawned, completed and
joined task, for edgeloop and tokio: the suite's `tasks` micro-benchmark
(batches of 1,000 trivial tasks, each awaited) run for 20,000 and 120,000
tasks, the same difference.

--top N prints, for each server measured, the N places that cost the
most per message: self cost, the two runs' difference, from
callgrind_annotate, as "source file: function it ran in" (code inlined
from one file into another function is its own row).
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL, LARGE = 20_000, 120_000
MESSAGE = b"x" * 64
SERVERS = ["example", "edgeloop-rw", "tokio", "epoll"]
# Measured only when named in --servers.
EXTRA_SERVERS = ["tokio-io"]
# A server under valgrind takes a while to start; past this it is broken.
START_TIMEOUT = 60.0
# One message round trip under valgrind takes well under a millisecond; a
# socket silent this long means the server is stuck.
SOCKET_TIMEOUT = 30.0


def build():
    """Builds the example and the bench suite; returns {server: argv}."""
    run = lambda *a: subprocess.run(a, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    run("cargo", "build", "-q", "-j", "2", "--release", "--example", "echo_server")
    out = run("cargo", "bench", "-q", "-j", "2", "-p", "edgeloop-bench", "--no-run",
              "--message-format=json").stdout
    suite = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "suite" \
                and msg.get("executable"):
            suite = msg["executable"]
    if suite is None:
        sys.exit("cannot find the bench suite's executable in cargo's output")
    example = os.path.join(ROOT, "target", "release", "examples", "echo_server")
    argv = {"example": [example, "127.0.0.1:0"]}
    for name in SERVERS[1:] + EXTRA_SERVERS:
        argv[name] = [suite, "--role", "server", name]
    return argv


def client(port, conns, rounds):
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    for _ in range(rounds):
        for s in socks:
            s.sendall(MESSAGE)
        for s in socks:
            got = 0
            while got < len(MESSAGE):
                b = s.recv(len(MESSAGE) - got)
                if not b:
                    raise SystemExit("the server closed a connection")
                got += len(b)
    for s in socks:
        s.close()


def port_of(log_path, proc):
    """Waits for the server's `port N` (bench roles) or `listening on ADDR:N` (the example)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited early: {open(log_path).read()}")
        text = open(log_path).read()
        m = re.search(r"^port (\d+)$", text, re.M) or re.search(r"listening on [^\s]*:(\d+)", text)
        if m:
            return int(m.group(1))
        time.sleep(0.2)
    proc.kill()
    sys.exit(f"the server did not start within {START_TIMEOUT:.0f} s")


def one_run(argv, conns, messages, work, tag):
    """Runs the server under callgrind for `messages`; returns its output file."""
    out = os.path.join(work, f"{tag}.{messages}.out")
    log = os.path.join(work, f"{tag}.{messages}.log")
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + argv,
            stdout=log_file, stderr=subprocess.STDOUT)
    try:
        client(port_of(log, proc), conns, messages // conns)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out


def spawn_run(argv, tasks, work, tag):
    """Runs the `tasks` micro-benchmark under callgrind; returns its output file."""
    out = os.path.join(work, f"{tag}.{tasks}.out")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + argv
                   + [str(tasks), "none"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)
    return out


def measure_spawn(suite, kind, work, top):
    """Instructions per spawned, completed and joined task for `kind`."""
    argv = [suite, "--role", "micro", "tasks", kind]
    small = spawn_run(argv, SMALL, work, f"spawn-{kind}")
    large = spawn_run(argv, LARGE, work, f"spawn-{kind}")
    per_task = (total(large) - total(small)) / (LARGE - SMALL)
    print(f"{kind:<12} spawn + complete + join: {per_task:8.0f} instructions per task", flush=True)
    if top:
        print_top(small, large, top)
    return per_task


def print_top(small, large, top):
    a, b = per_function(small), per_function(large)
    diff = {f: (b.get(f, 0) - a.get(f, 0)) / (LARGE - SMALL) for f in set(a) | set(b)}
    for f, c in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {c:7.1f}  {f}")


def total(out):
    for line in open(out):
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    sys.exit(f"no total in {out}")


def short(name):
    """`file:function` with the file relative to the workspace (or std's
    library, or libc): the file is where the code was written, the function
    where it was inlined and ran, so the pair says whose code costs what."""
    file, sep, function = name.partition(":")
    if not sep:
        return name
    if file.startswith(ROOT + "/"):
        file = file[len(ROOT) + 1:]
    elif "/library/" in file:
        file = "std " + file.split("/library/", 1)[1]
    elif "/.cargo/registry/" in file:
        file = file.split("/src/", 1)[0].rsplit("/", 1)[-1] + " " + file.split("/src/", 1)[-1]
    elif file.startswith("./"):
        file = "libc"
    return f"{file}: {function}"


def per_function(out):
    """{file: function -> self Ir} from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", out],
                          check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout
    costs = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(?:\*\s+)?(\S.*)$", line)
        if m:
            name = m.group(2).split(" [")[0]
            if name.startswith("PROGRAM TOTALS"):
                continue
            costs_key = short(name)
            costs[costs_key] = costs.get(costs_key, 0) + int(m.group(1).replace(",", ""))
    return costs


def measure(argv, server, conns, work, top):
    """Instructions per message for `server` at `conns`; prints them (and the top functions)."""
    tag = f"{server}.{conns}"
    small = one_run(argv, conns, SMALL, work, tag)
    large = one_run(argv, conns, LARGE, work, tag)
    per_msg = (total(large) - total(small)) / (LARGE - SMALL)
    print(f"{server:<12} {conns:>5} conns: {per_msg:8.0f} instructions per message", flush=True)
    if top:
        print_top(small, large, top)
    return per_msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conns", default="1,100,1000", help="comma-separated (default 1,100,1000)")
    ap.add_argument("--servers", default=",".join(SERVERS),
                    help="comma-separated, from: " + " ".join(SERVERS + EXTRA_SERVERS))
    ap.add_argument("--top", type=int, default=0, help="per-function breakdown, N functions")
    ap.add_argument("--spawn", action="store_true",
                    help="instructions per spawned task (edgeloop, tokio) instead of per message")
    ap.add_argument("--keep", metavar="DIR", help="keep callgrind's output files in DIR "
                    "(for callgrind_annotate --auto=yes)")
    args = ap.parse_args()
    conns = [int(c) for c in args.conns.split(",")]
    servers = args.servers.split(",")
    for s in servers:
        if s not in SERVERS + EXTRA_SERVERS:
            sys.exit(f"unknown server {s}; choose from {SERVERS + EXTRA_SERVERS}")
    argv = build()
    if args.spawn:
        with tempfile.TemporaryDirectory() as scratch:
            work = args.keep or scratch
            os.makedirs(work, exist_ok=True)
            for kind in ["edgeloop", "tokio"]:
                measure_spawn(argv["tokio"][0], kind, work, args.top)
        return
    table = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or scratch
        os.makedirs(work, exist_ok=True)
        for server in servers:
            for n in conns:
                table[(server, n)] = measure(argv[server], server, n, work, args.top)
    print()
    print("| server | " + " | ".join(f"{n:,} conn" + ("s" if n > 1 else "") for n in conns) + " |")
    print("|---|" + "---:|" * len(conns))
    for server in servers:
        print(f"| {server} | " + " | ".join(f"{table[(server, n)]:,.0f}" for n in conns) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# User-space instructions per echoed message, counted by callgrind (which
# repeats exactly, whatever else the machine does):
#
#   cargo build --release --example echo_server
#   bash bench/callgrind/measure.sh target/release/examples/echo_server 100
#
# The server runs under `valgrind --tool=callgrind`; a fixed-count client
# (client.py: CONNS connections, each sending 64 B and reading the echo,
# round after round) sends 20,000 and then 120,000 messages to two fresh
# runs, and (Ir(120k) - Ir(20k)) / 100,000 cancels start-up and connection
# set-up. The server must take an address argument and print a line with
# "listening" once it does. Batching at many connections varies a little
# with timing (a few instructions per message between runs); at 1
# connection the count repeats to the instruction.
set -euo pipefail
bin=$1
conns=${2:-100}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

instructions() {
    local messages=$1 port=$((20000 + RANDOM % 20000))
    valgrind --tool=callgrind --callgrind-out-file="$work/out.%p" \
        "$bin" "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 150); do
        grep -q listening "$work/server.log" 2>/dev/null && break
        sleep 0.2
    done
    python3 "$here/client.py" 127.0.0.1 "$port" "$conns" $((messages / conns))
    # SIGTERM, not SIGINT: a background job of a script ignores SIGINT.
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    grep -h '^summary:' "$work/out.$pid" | awk '{print $2}'
}

small=$(instructions 20000)
large=$(instructions 120000)
echo "$bin, $conns conns: $(( (large - small) / 100000 )) instructions per message (Ir 20k: $small, 120k: $large)"

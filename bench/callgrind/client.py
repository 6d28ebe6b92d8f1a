# Fixed-count closed-loop echo client for bench/callgrind/measure.sh: CONNS
# connections, ROUNDS rounds; in each round every connection sends 64 B and
# reads its echo back. Usage: client.py HOST PORT CONNS ROUNDS
import socket, sys
host, port, conns, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
msg = b"x" * 64
socks = []
for _ in range(conns):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    socks.append(s)
for r in range(rounds):
    for s in socks:
        s.sendall(msg)
    for s in socks:
        got = 0
        while got < 64:
            b = s.recv(64 - got)
            if not b:
                raise SystemExit("closed")
            got += len(b)
for s in socks:
    s.close()

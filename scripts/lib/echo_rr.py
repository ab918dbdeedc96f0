# Request/response client for scripts/callgrind_echo.sh: 16 connections,
# each round sends one 64-byte message on every connection, then reads
# every echo back.  usage: echo_rr.py PORT ROUNDS
import socket, sys
port, rounds, n = int(sys.argv[1]), int(sys.argv[2]), 16
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
for s in socks: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"x" * 64
for r in range(rounds):
    for s in socks: s.sendall(msg)
    for s in socks:
        got = 0
        while got < 64: got += len(s.recv(64 - got))
for s in socks: s.close()

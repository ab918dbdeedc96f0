# Request/response WebSocket client for scripts/callgrind_ws.sh: 4
# connections to /echo, each round sends one masked binary message of
# SIZE bytes on every connection, then reads every echo back (checked).
#   usage: ws_echo_rr.py PORT ROUNDS SIZE
import base64, os, socket, struct, sys
port, rounds, size, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 4

def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert head.endswith(b"\r\n\r\n"), "data after the 101"
    return s

payload = bytes((i * 7) & 0xFF for i in range(size))
mask = b"\x12\x34\x56\x78"
masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
if size < 126:
    head = bytes([0x82, 0x80 | size])
elif size < 65536:
    head = bytes([0x82, 0x80 | 126]) + struct.pack(">H", size)
else:
    head = bytes([0x82, 0x80 | 127]) + struct.pack(">Q", size)
frame = head + mask + masked
want = len(head) + size  # the echo: same header without the mask bit and key

socks = [connect() for _ in range(n)]
for r in range(rounds):
    for s in socks:
        s.sendall(frame)
    for s in socks:
        got = bytearray()
        while len(got) < want:
            got += s.recv(want - len(got))
        if r == 0 or r == rounds - 1:
            assert got[len(head):] == payload, "echo differs"
for s in socks:
    s.sendall(b"\x88\x82" + mask + bytes(a ^ b for a, b in zip(b"\x03\xe8", mask)))
    s.close()

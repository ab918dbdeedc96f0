# Pipelined HTTPS client for scripts/callgrind_https.sh: PORT N [1.2].
import socket, ssl, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
ver = sys.argv[3] if len(sys.argv) > 3 else "1.3"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if ver == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" * 16
left = n
buf = b""
while left > 0:
    s.sendall(req)
    want = 16
    while want:
        d = s.recv(65536)
        if not d: raise SystemExit("closed")
        buf += d
        c = buf.count(b"Hello, World!")
        if c:
            want -= c
            buf = buf[buf.rfind(b"Hello, World!") + 13:]
    left -= 16
s.close()

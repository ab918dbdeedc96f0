# Pipelined GET /plaintext client for the callgrind scripts: writes 16
# requests per send, reads until their 16 responses are in, repeats until
# `total` are answered.  usage: http_pipelined.py PORT TOTAL
import socket, sys
port, total, depth = int(sys.argv[1]), int(sys.argv[2]), 16
batch = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n" * depth
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
mark, done, pending = b"Hello, World!", 0, b""
while done < total:
    s.sendall(batch)
    seen = 0
    while seen < depth:
        pending += s.recv(1 << 16)
        n = pending.count(mark)
        if n:
            seen += n
            pending = pending[pending.rfind(mark) + len(mark):]
    done += depth
s.close()

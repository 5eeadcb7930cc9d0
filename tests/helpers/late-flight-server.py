#!/usr/bin/env python3
"""late-flight-server.py CERT KEY DIR: a TLS server whose post-handshake
records (TLS 1.3 session tickets) and first data reach the client together.

Prints its port, accepts one connection, and sends its first handshake
flight. It then waits for DIR/go (the test creates it once it has stopped
the client's engine), completes the handshake (its tickets go out), sends
"hello", creates DIR/sent, and prints the line the client answers. The
client's engine, resumed after DIR/sent, finds tickets and data in one read:
a client that reads ahead and stops after the tickets never sees "hello".
"""
import os
import select
import socket
import ssl
import sys
import time

cert, key, d = sys.argv[1:4]


def wait_for(path, limit=20):
    end = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > end:
            sys.exit(f"late-flight-server: {path} never appeared")
        time.sleep(0.01)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.num_tickets = 2
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
print(lsock.getsockname()[1], flush=True)
lsock.settimeout(20)
raw, _ = lsock.accept()
raw.setblocking(False)
conn = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
# the ClientHello in, the first flight out; then the client's Finished is
# awaited, and left waiting until the go
select.select([conn], [], [], 20)
try:
    conn.do_handshake()
except ssl.SSLWantReadError:
    pass
wait_for(os.path.join(d, "go"))
while True:
    try:
        conn.do_handshake()
        break
    except ssl.SSLWantReadError:
        select.select([conn], [], [], 20)
conn.setblocking(True)
conn.settimeout(20)
conn.sendall(b"hello\n")
with open(os.path.join(d, "sent"), "w") as f:
    f.write("sent\n")
line = b""
while not line.endswith(b"\n"):
    chunk = conn.recv(100)
    if not chunk:
        break
    line += chunk
print("server got:", line.decode().strip(), flush=True)
conn.close()

#!/usr/bin/env python3
"""echo-client.py PORT CA: one session with examples/starttls-echo: the
greeting, STARTTLS and its "ready", the handshake (verified against CA, name
localhost), then inside TLS the server's first line and the reply to QUIT,
printed."""
import socket, ssl, sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
assert f.readline() == b"hello, STARTTLS available\r\n"
s.sendall(b"STARTTLS\r\n")
assert f.readline() == b"ready\r\n"
t = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(s, server_hostname="localhost")
tf = t.makefile("rb")
print(tf.readline().decode().strip())
t.sendall(b"QUIT\r\n")
print(tf.readline().decode().strip())

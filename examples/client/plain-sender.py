#!/usr/bin/env python3
"""plain-sender.py FROM TO < message: a cleartext SMTP sender, in the manner
of qmail-remote, that knows nothing of TLS. It speaks SMTP on descriptors 6
(from the server) and 7 (to it); smtpc-starttls gives it a session inside
TLS, or a 421 when the server offers none:

  env CAFILE=/etc/ssl/certs/ca-certificates.crt \\
    tcpclient smtp.example.org 587 ucspitlsc -k smtp.example.org -- \\
    smtpc-starttls -- plain-sender.py a@example.org b@example.net < msg

It prints the server's last reply and exits 0 once the message is accepted,
100 for a permanent refusal (5xx), 111 for anything else (4xx, a lost
connection): what a queue needs to retry or bounce.
"""
import os, sys

rfd, wfd, buf = 6, 7, b""

def reply():
    """One whole reply: (code, its last line)."""
    global buf
    while True:
        while b"\n" not in buf:
            d = os.read(rfd, 65536)
            if not d:
                print("connection lost")
                sys.exit(111)
            buf += d
        line, buf = buf.split(b"\n", 1)
        line = line.rstrip(b"\r")
        if line[3:4] != b"-":
            return line[:3], line.decode("latin-1")

def send(data):
    while data:
        data = data[os.write(wfd, data):]

def step(cmd, want):
    if cmd is not None:
        send(cmd.encode() + b"\r\n")
    code, line = reply()
    if code[:1] != want:
        print(line)
        try:
            send(b"QUIT\r\n")
        except OSError:  # the proxy or the server has gone: the exit code says it all
            pass
        sys.exit(100 if code[:1] == b"5" else 111)
    return line

if len(sys.argv) != 3:
    print("usage: plain-sender.py FROM TO < message", file=sys.stderr)
    sys.exit(100)
step(None, b"2")
step("EHLO " + os.environ.get("TCPLOCALHOST", "localhost"), b"2")
step("MAIL FROM:<%s>" % sys.argv[1], b"2")
step("RCPT TO:<%s>" % sys.argv[2], b"2")
step("DATA", b"3")
message = sys.stdin.buffer.read().replace(b"\r\n", b"\n")
if message.endswith(b"\n"):
    message = message[:-1]
body = b""
for l in message.split(b"\n"):
    body += (b"." + l if l.startswith(b".") else l) + b"\r\n"
send(body + b".\r\n")
print(step(None, b"2"))
send(b"QUIT\r\n")
sys.exit(0)

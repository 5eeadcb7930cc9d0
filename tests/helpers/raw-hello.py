#!/usr/bin/env python3
"""raw-hello.py: sends one hand-made TLS 1.2 ClientHello whose server_name
is any bytes at all (python's ssl refuses such names), then reads what the
server answers until it closes.

  raw-hello.py --port P --sni TEXT   (\\n, \\xHH... escapes understood)
  raw-hello.py --port P --sni-len N  (N bytes: "a" labels of 63, dot-separated)
  --starttls imap|smtp: first the protocol's STARTTLS exchange, in cleartext

Prints "answer=handshake" (a ServerHello came: the server goes on),
"answer=alert LEVEL DESCRIPTION" or "answer=eof", then "closed=yes|no".
"""
import argparse
import os
import socket
import struct
import sys
import time


def u16(n):
    return struct.pack(">H", n)


def ext(kind, body):
    return u16(kind) + u16(len(body)) + body


def client_hello(name):
    suites = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC009, 0xC013]
    exts = b""
    exts += ext(0, u16(len(name) + 3) + b"\x00" + u16(len(name)) + name)      # server_name
    exts += ext(10, u16(4) + u16(0x001D) + u16(0x0017))                         # x25519, secp256r1
    exts += ext(11, b"\x01\x00")                                                # uncompressed points
    sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    exts += ext(13, u16(2 * len(sigs)) + b"".join(u16(s) for s in sigs))      # signature_algorithms
    exts += ext(0xFF01, b"\x00")                                                # renegotiation_info
    body = b"\x03\x03" + os.urandom(32) + b"\x00"
    body += u16(2 * len(suites)) + b"".join(u16(s) for s in suites)
    body += b"\x01\x00" + u16(len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + u16(len(hs)) + hs


def reply(s, done):
    """Reads cleartext lines until one for which done(line) holds."""
    buf = b""
    while True:
        while b"\n" not in buf:
            d = s.recv(4096)
            if not d:
                raise SystemExit("the server closed before TLS: %r" % buf)
            buf += d
        line, buf = buf.split(b"\n", 1)
        if done(line):
            return


def starttls(s, proto):
    if proto == "imap":
        reply(s, lambda l: l.startswith(b"* OK"))
        s.sendall(b"a1 STARTTLS\r\n")
        reply(s, lambda l: l.startswith(b"a1 OK"))
    else:
        reply(s, lambda l: l.startswith(b"220 "))
        s.sendall(b"EHLO raw.example\r\n")
        reply(s, lambda l: l.startswith(b"250 "))
        s.sendall(b"STARTTLS\r\n")
        reply(s, lambda l: l.startswith(b"220 "))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sni")
    p.add_argument("--sni-len", type=int)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--starttls", choices=["imap", "smtp"])
    a = p.parse_args()
    if a.sni_len is not None:
        labels, left = [], a.sni_len
        while left > 0:
            n = min(63, left)
            labels.append(b"a" * n)
            left -= n + 1
        name = b".".join(labels)[:a.sni_len]
    else:
        name = a.sni.encode().decode("unicode_escape").encode("latin-1")
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    if a.starttls:
        starttls(s, a.starttls)
    s.sendall(client_hello(name))
    data = b""
    deadline = time.monotonic() + a.timeout
    closed = "no"
    while time.monotonic() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = "yes"
            break
        if not d:
            closed = "yes"
            break
        data += d
        if len(data) >= 5 and data[0] == 22:
            break  # the handshake goes on: enough said
    if len(data) >= 5 and data[0] == 22:
        print("answer=handshake")
    elif len(data) >= 7 and data[0] == 21:
        print("answer=alert %d %d" % (data[5], data[6]))
    else:
        print("answer=eof")
    print("closed=%s" % closed)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

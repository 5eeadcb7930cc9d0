#!/usr/bin/env python3
"""tls-client.py: an immediate-TLS test client (python ssl over MemoryBIO).

Connects, does the handshake (verifying the server against --ca and --sni
unless --no-verify), sends --send/--send-file, half-closes as --shut says,
reads until EOF. Facts go to stderr as name=value lines (--info): version,
cipher, peer_sha256, peer_cn, eof (clean = close_notify, unclean = bare TCP
EOF), bytes, sha256. Received data goes to stdout or --out.

Exit codes: 0 ok, 2 usage, 3 handshake failed, 4 data differs from
--expect/--expect-file, 5 timeout, 6 connect failed.
"""
import argparse
import hashlib
import socket
import ssl
import sys
import time

import ustls


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--sni", default="localhost", help="server_hostname (SNI and verified name); '' for none")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--no-check-name", action="store_true", help="verify the chain but not the name")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--min", choices=["1.2", "1.3"])
    p.add_argument("--max", choices=["1.2", "1.3"])
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--send", default="", help="text to send; \\n escapes are understood")
    p.add_argument("--send-file")
    p.add_argument("--shut", choices=["none", "tcp", "notify", "close"], default="none",
                   help="after sending: nothing, TCP half-close, close_notify + half-close, or close at once")
    p.add_argument("--duplex", action="store_true", help="send and receive at the same time")
    p.add_argument("--out")
    p.add_argument("--info", action="store_true")
    p.add_argument("--expect")
    p.add_argument("--expect-file")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--hold", action="store_true", help="connect, never start TLS, report when the server closes")
    p.add_argument("--idle", action="store_true", help="handshake, send nothing, report when the server closes")
    p.add_argument("--trickle", help="N:SECONDS: send N short lines, one every SECONDS, before --send")
    return p.parse_args()


def fact(name, value):
    sys.stderr.write("%s=%s\n" % (name, value))


def hold(a):
    s = ustls.connect(a.host, a.port, a.timeout)
    t0 = time.monotonic()
    s.setblocking(True)
    s.settimeout(a.timeout)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        fact("eof_after", "never")
        return 5
    fact("eof_after", "%.2f" % (time.monotonic() - t0))
    return 0


def session(a, ctx, data, expect, quiet):
    deadline = time.monotonic() + a.timeout
    try:
        s = ustls.connect(a.host, a.port, a.timeout)
    except OSError as e:
        print("connect failed: %s" % e, file=sys.stderr)
        return 6, b""
    t = ustls.TLS(s, ctx, a.sni or None, deadline)
    try:
        try:
            t.handshake()
        except (ssl.SSLError, OSError) as e:
            print("handshake failed: %s" % e, file=sys.stderr)
            return 3, b""
        if a.info and not quiet:
            for k, v in t.info().items():
                fact(k, v)
        if a.idle:
            t0 = time.monotonic()
            t.read_all()
            fact("eof_after", "%.2f" % (time.monotonic() - t0))
            return 0, b""
        if a.trickle:
            n, pause = a.trickle.split(":")
            for i in range(int(n)):
                t.sendall(b"line %d\n" % i)
                time.sleep(float(pause))
        if a.duplex:
            got = t.duplex(data, "notify" if a.shut == "notify" else "tcp")
        else:
            if data:
                t.sendall(data)
            if a.shut == "tcp":
                t.shut_tcp()
            elif a.shut == "notify":
                t.close_notify()
            elif a.shut == "close":
                s.close()
                return 0, b""
            got = t.read_all()
    except ustls.Timeout:
        print("timeout", file=sys.stderr)
        return 5, b""
    except (ssl.SSLError, OSError) as e:
        print("TLS error after the handshake: %s" % e, file=sys.stderr)
        return 3, b""
    finally:
        s.close()
    if a.info and not quiet:
        fact("eof", t.eof)
        fact("bytes", len(got))
        fact("sha256", hashlib.sha256(got).hexdigest())
    if expect is not None and got != expect:
        print("data differs: got %d bytes, expected %d; first bytes %r"
              % (len(got), len(expect), got[:80]), file=sys.stderr)
        return 4, got
    return 0, got


def main():
    a = parse()
    if a.hold:
        return hold(a)
    ctx = ustls.make_context(ca=a.ca, cert=a.cert, key=a.key, verify=not a.no_verify,
                             check_hostname=bool(a.sni) and not a.no_check_name, min_version=a.min, max_version=a.max)
    data = a.send.encode().decode("unicode_escape").encode("latin-1")
    if a.send_file:
        with open(a.send_file, "rb") as f:
            data += f.read()
    expect = None
    if a.expect is not None:
        expect = a.expect.encode().decode("unicode_escape").encode("latin-1")
    if a.expect_file:
        with open(a.expect_file, "rb") as f:
            expect = f.read()
    failures = 0
    rc = 0
    got = b""
    for i in range(a.repeat):
        rc, got = session(a, ctx, data, expect, quiet=i > 0)
        if rc:
            failures += 1
            if a.repeat == 1 or failures > 5:
                break
    if a.repeat > 1:
        fact("sessions", a.repeat)
        fact("failures", failures)
        return 4 if failures else 0
    if a.out:
        with open(a.out, "wb") as f:
            f.write(got)
    else:
        sys.stdout.buffer.write(got)
    return rc


if __name__ == "__main__":
    sys.exit(main())

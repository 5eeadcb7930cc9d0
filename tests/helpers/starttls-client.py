#!/usr/bin/env python3
"""starttls-client.py: speaks ucspitls-app's line protocol in cleartext, then
wraps the same socket in TLS (python ssl, verified against --ca and --sni)
and goes on inside TLS.

usage: starttls-client.py --port P [--ca F] [--sni NAME] [--cert C --key K] item...
Prints the greeting and each reply as "< line". Items:
  TEXT            send TEXT as a line, print the one reply line
  STARTTLS x      send it; if the reply is OK, do the handshake and print
                  "TLS version=... cipher=... peer_cn=... peer_sha256=..."
  @HANDSHAKE      start TLS now without sending anything first
  @READ           print one more line
  @SEND TEXT      send TEXT as a line, read nothing
  @SHUT           TCP half-close of our write side, then print lines until EOF
  @NOTIFY         close_notify + TCP half-close, then print lines until EOF
  @CLOSE          close the connection now and exit 0
  @PAUSE FILE     print "PAUSED", then wait until FILE exists
  @RAW HEX        send these raw bytes (e.g. half a ClientHello)
  @HOLD           read until the server closes; print "EOF after S"
  @BIG N          send "BIG N", check the N-byte pattern reply, print "< BIG ok N"
Exit codes: 0 ok, 1 server closed early, 3 handshake failed, 5 timeout.
"""
import argparse
import os
import socket
import ssl
import sys
import time

import ustls


def out(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--sni", default="localhost")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("items", nargs="*")
    a = p.parse_args()

    deadline = time.monotonic() + a.timeout
    sock = ustls.connect(a.host, a.port, a.timeout)
    conn = ustls.Plain(sock, deadline)
    tls = None

    def readline():
        return conn.readline().decode("latin-1")

    def show(line):
        if not line:
            out("< (EOF)")
            return False
        out("< " + line.rstrip("\r\n"))
        return True

    def handshake():
        nonlocal conn, tls
        ctx = ustls.make_context(ca=a.ca, cert=a.cert, key=a.key, verify=not a.no_verify,
                                 check_hostname=bool(a.sni))
        tls = ustls.TLS(sock, ctx, a.sni or None, deadline)
        try:
            tls.handshake()
        except (ssl.SSLError, OSError) as e:
            out("TLS FAILED: %s" % e)
            sys.exit(3)
        i = tls.info()
        out("TLS version=%s cipher=%s peer_cn=%s peer_sha256=%s"
            % (i["version"], i["cipher"], i["peer_cn"], i["peer_sha256"]))
        conn = ustls.LineTLS(tls)

    def drain():
        while show(readline()):
            pass

    try:
        if not show(readline()):
            return 1
        for item in a.items:
            if item == "@HANDSHAKE":
                handshake()
            elif item.startswith("@SEND "):
                conn.sendall((item[6:] + "\n").encode())
            elif item == "@READ":
                if not show(readline()):
                    return 1
            elif item == "@SHUT":
                if tls:
                    tls.shut_tcp()
                else:
                    sock.shutdown(socket.SHUT_WR)
                drain()
                if tls:
                    out("EOF " + tls.eof)
                return 0
            elif item == "@NOTIFY":
                tls.close_notify()
                drain()
                out("EOF " + tls.eof)
                return 0
            elif item == "@CLOSE":
                sock.close()
                return 0
            elif item.startswith("@PAUSE "):
                path = item[7:]
                out("PAUSED")
                while not os.path.exists(path):
                    if time.monotonic() > deadline:
                        raise ustls.Timeout("pause")
                    time.sleep(0.02)
            elif item.startswith("@RAW "):
                ustls.Plain(sock, deadline).sendall(bytes.fromhex(item[5:]))
            elif item == "@HOLD":
                t0 = time.monotonic()
                while readline():
                    pass
                out("EOF after %.2f" % (time.monotonic() - t0))
                return 0
            elif item.startswith("@BIG "):
                n = int(item[5:])
                conn.sendall(("BIG %d\n" % n).encode())
                line = conn.readline()
                want = bytes((97 + i % 26) for i in range(26)) * (n // 26 + 1)
                if line == want[:n] + b"\n":
                    out("< BIG ok %d" % n)
                else:
                    out("< BIG bad: %d bytes" % len(line))
            else:
                conn.sendall((item + "\n").encode())
                line = readline()
                if not show(line):
                    return 1
                if item.startswith("STARTTLS ") and line.rstrip("\r\n") == "OK":
                    handshake()
    except ustls.Timeout:
        out("TIMEOUT")
        return 5
    except (ssl.SSLError, OSError) as e:
        out("ERROR %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

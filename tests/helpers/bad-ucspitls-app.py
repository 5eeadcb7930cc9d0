#!/usr/bin/env python3
"""bad-ucspitls-app.py MODE: a small SMTP-like UCSPI-TLS application on fds
0/1 with SSLCTLFD/SSLREADFD/SSLWRITEFD, for ucspitls-check's tests. Each mode
reproduces one known handoff bug; "good" does everything right.
  good       reads its lines byte by byte, clears nothing it did not set,
             sends 'Y', stops at the block's \\0\\0, closes SSLCTLFD and 0/1
  nonblock   sets O_NONBLOCK on fd 0 before 'Y' and leaves it (the
             smtpd-starttls-proxy bug that broke libtls engines)
  readahead  reads the network in 4 KiB chunks and waits for more after
             STARTTLS before replying, as a stdio-buffered server does (the
             CVE-2011-0411 class of command injection)
  cleartext  writes "250 oops" on fd 1 after 'Y' and its block
  eofwait    reads SSLCTLFD until EOF, not until \\0\\0 (deadlocks under sslserver)
  decline    answers STARTTLS with 454, closes SSLCTLFD, goes on in cleartext
  leakfd     like good, but keeps an extra descriptor (/dev/null) open
Commands before TLS: EHLO -> 250, STARTTLS -> 220 (454 in decline), QUIT -> 221,
anything else -> 250. Inside TLS: QUIT -> 221 and exit, anything else -> 250."""
import os, select, sys

mode = sys.argv[1]
ctl = int(os.environ["SSLCTLFD"])
rfd = int(os.environ["SSLREADFD"])
wfd = int(os.environ["SSLWRITEFD"])
if mode == "leakfd":
    leak = os.open("/dev/null", os.O_RDONLY)
buf = b""


def readline(fd):
    global buf
    if mode == "readahead" and fd == 0:
        while b"\n" not in buf:
            d = os.read(0, 4096)
            if not d:
                return b""
            buf += d
        line, buf = buf.split(b"\n", 1)
        return line + b"\n"
    line = b""
    while not line.endswith(b"\n"):
        c = os.read(fd, 1)
        if not c:
            return line
        line += c
    return line


def say(fd, s):
    os.write(fd, s.encode())


def starttls():
    global buf
    if mode == "readahead":
        # a buffered reader fills its buffer: whatever the client pipelined is read now
        if select.select([0], [], [], 5)[0]:
            buf += os.read(0, 4096)
    say(1, "220 go ahead\r\n")
    if mode == "nonblock":
        os.set_blocking(0, False)
    os.write(ctl, b"Y")
    block = b""
    while True:
        d = os.read(ctl, 4096)
        if not d:
            break
        block += d
        if mode != "eofwait" and (block.endswith(b"\0\0") or block == b"\0"):
            break
    os.close(ctl)
    if not block.endswith(b"\0"):
        sys.exit(98)
    if mode == "cleartext":
        say(1, "250 oops\r\n")
    os.close(0)
    os.close(1)
    while True:
        line = readline(rfd)
        if not line:
            sys.exit(0)
        if line.upper().startswith(b"QUIT"):
            say(wfd, "221 bye\r\n")
            sys.exit(0)
        say(wfd, "250 ok\r\n")


say(1, "220 bad.test ready\r\n")
while True:
    line = readline(0)
    if not line:
        sys.exit(0)
    verb = line.strip().upper()
    if verb == b"STARTTLS":
        if mode == "decline":
            os.close(ctl)
            say(1, "454 TLS not available\r\n")
            continue
        starttls()
    elif verb == b"QUIT":
        say(1, "221 bye\r\n")
        sys.exit(0)
    else:
        say(1, "250 ok\r\n")

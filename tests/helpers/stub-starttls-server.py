#!/usr/bin/env python3
"""stub-starttls-server.py: a scriptable SMTP, IMAP or POP3 server with
STARTTLS of its own, run under ucspitlsd (it starts TLS with 'Y' on
SSLCTLFD), for the client-side proxies' tests (tests/client.bats).
$STUB_PROTO is smtp, imap or pop3; $STUB_MODE picks a behaviour:
  normal    offers STARTTLS/STLS, accepts it, then serves inside TLS, where
            it (wrongly) still offers STARTTLS, STLS and LOGINDISABLED
  omit      never offers STARTTLS/STLS (it accepts it anyway)
  refuse    offers it, answers it with an error
  inject    sends "INJECTED" lines in the same write as its success reply
  late      sends its success reply, then an "INJECTED" line 200 ms later
  nocapa    POP3: CAPA is -ERR (so STLS is not offered)
  preauth   IMAP: a PREAUTH greeting
  silent    never greets
  trickle   a greeting of endless 220- lines, one byte every 0.1 s
  stay      does not end at the client's EOF: 3 s later
Inside TLS, the SMTP command FLOOD gets endless 250- lines (until the
connection is gone), BIG n a reply of about n bytes, after which the stub ends.
  longline  a greeting line of 70000 bytes
  manylines SMTP: a greeting of endless 220- lines
(POP3 inside TLS offers no STLS: pop3c-starttls does not rewrite there.)
Inside TLS: SMTP takes EHLO, MAIL, RCPT, DATA (the body goes to $FAKE_LOG)
and QUIT; IMAP takes CAPABILITY, LOGIN, SELECT, FETCH (a literal holding
lines that look like capability responses) and LOGOUT; POP3 takes CAPA,
USER, PASS, RETR and QUIT. Every line received is appended to $FAKE_LOG."""
import os, sys, time

proto = os.environ.get("STUB_PROTO", "smtp")
mode = os.environ.get("STUB_MODE", "normal")
log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
rfd, wfd = 0, 1
buf = b""

def say(b):
    if isinstance(b, str):
        b = b.encode()
    os.write(wfd, b)

def readline():
    global buf
    while b"\n" not in buf:
        d = os.read(rfd, 65536)
        if not d:
            return None
        buf += d
    line, buf = buf.split(b"\n", 1)
    log.write(line + b"\n")
    return line.rstrip(b"\r")

def start_tls():
    """The success reply was sent: start TLS with 'Y', read the info block."""
    global rfd, wfd, buf
    ctl = int(os.environ["SSLCTLFD"])
    os.write(ctl, b"Y")
    info = b""
    while not info.endswith(b"\0\0"):
        d = os.read(ctl, 4096)
        if not d:
            log.write(b"handshake failed\n")
            sys.exit(0)
        info += d
    os.close(ctl)
    rfd, wfd = int(os.environ["SSLREADFD"]), int(os.environ["SSLWRITEFD"])
    buf = b""
    log.write(b"tls up\n")

def success(reply):
    if mode == "inject":
        say(reply + INJECT)
    else:
        say(reply)
        if mode == "late":
            time.sleep(0.2)
            say(INJECT)
    start_tls()

def wait_eof():
    while readline() is not None:
        pass
    sys.exit(0)

def at_eof():
    if mode == "stay":
        time.sleep(3)

# ---------------------------------------------------------------- SMTP
def smtp():
    global INJECT
    INJECT = b"250 INJECTED\r\n"
    say("220 stub.test ESMTP ready\r\n")
    tls = False
    while True:
        line = readline()
        if line is None:
            return at_eof()
        verb = line.split(b" ", 1)[0].upper()
        if verb == b"FLOOD":
            try:
                while True:
                    say(b"250-" + b"x" * 1000 + b"\r\n")
            except OSError:
                sys.exit(0)
        if verb == b"BIG":  # a reply of that many bytes, more or less, then the stub ends
            n = int(line.split()[1])
            for _ in range(n // 1000):
                say(b"250-" + b"y" * 994 + b"\r\n")
            say(b"250 end\r\n")
            return
        if verb == b"EHLO":
            offer = (mode != "omit") and (not tls or mode == "normal")
            say("250-stub.test hello\r\n250-PIPELINING\r\n" + ("250-STARTTLS\r\n" if offer else "") + "250 8BITMIME\r\n")
        elif verb == b"STARTTLS" and not tls:
            if mode == "refuse":
                say("454 4.7.0 TLS not available now\r\n")
                continue
            success(b"220 2.0.0 go ahead\r\n")
            tls = True
            if mode in ("inject", "late"):
                wait_eof()
        elif verb == b"MAIL" or verb == b"RCPT":
            say("250 2.0.0 ok\r\n")
        elif verb == b"DATA":
            say("354 go ahead\r\n")
            while True:
                l = readline()
                if l is None or l == b".":
                    break
            say("250 2.0.0 accepted\r\n")
        elif verb == b"QUIT":
            say("221 2.0.0 bye\r\n")
            return
        else:
            say("500 5.5.1 what\r\n")

# ---------------------------------------------------------------- IMAP
BODY = b"Subject: stub\r\n\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK [CAPABILITY STARTTLS] not a response\r\n"

def imap():
    global INJECT
    INJECT = b"* OK INJECTED\r\n"
    if mode == "preauth":
        say("* PREAUTH stub ready\r\n")
    else:
        say("* OK [CAPABILITY IMAP4rev1%s] stub ready\r\n" % ("" if mode == "omit" else " STARTTLS LOGINDISABLED"))
    tls = False
    while True:
        line = readline()
        if line is None:
            return
        parts = line.split(b" ")
        tag, verb = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
        t = tag.decode(errors="replace")
        if verb == b"CAPABILITY":
            extra = "" if mode == "omit" else " STARTTLS LOGINDISABLED"
            say("* CAPABILITY IMAP4rev1%s AUTH=PLAIN\r\n%s OK done\r\n" % (extra, t))
        elif verb == b"STARTTLS" and not tls:
            if mode == "refuse":
                say("%s NO not now\r\n" % t)
                continue
            success(("%s OK begin TLS\r\n" % t).encode())
            tls = True
            if mode in ("inject", "late"):
                wait_eof()
        elif verb == b"LOGIN":
            say("%s OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] logged in\r\n" % t)
        elif verb == b"SELECT":
            say("* 1 EXISTS\r\n%s OK [READ-WRITE] selected\r\n" % t)
        elif verb == b"FETCH":
            say(b"* 1 FETCH (BODY[] {%d}\r\n" % len(BODY) + BODY + b")\r\n" + tag + b" OK fetched\r\n")
        elif verb == b"LOGOUT":
            say("* BYE bye\r\n%s OK logged out\r\n" % t)
            return
        else:
            say("%s BAD what\r\n" % t)

# ---------------------------------------------------------------- POP3
MESSAGE = b"Subject: stub\r\n\r\nSTLS\r\n..dot line\r\nlast\r\n"

def pop3():
    global INJECT
    INJECT = b"+OK INJECTED\r\n"
    say("+OK stub ready <1.2@stub.test>\r\n")
    tls = False
    while True:
        line = readline()
        if line is None:
            return
        verb = line.split(b" ", 1)[0].upper()
        if verb == b"CAPA":
            if mode == "nocapa":
                say("-ERR no CAPA here\r\n")
            else:
                say("+OK capabilities\r\nUSER\r\n" + ("" if mode == "omit" or tls else "STLS\r\n") + "PIPELINING\r\n.\r\n")
        elif verb == b"STLS" and not tls:
            if mode == "refuse":
                say("-ERR not now\r\n")
                continue
            success(b"+OK begin TLS\r\n")
            tls = True
            if mode in ("inject", "late"):
                wait_eof()
        elif verb in (b"USER", b"PASS"):
            say("+OK\r\n")
        elif verb == b"RETR":
            say(b"+OK message follows\r\n" + MESSAGE + b".\r\n")
        elif verb == b"QUIT":
            say("+OK bye\r\n")
            return
        else:
            say("-ERR what\r\n")

if mode == "silent":
    wait_eof()
if mode == "longline":
    say(b"220 " + b"x" * 70000 + b"\r\n")
    wait_eof()
if mode == "trickle":
    try:
        while True:
            for b in b"220-slow\r\n":
                say(bytes([b]))
                time.sleep(0.1)
    except OSError:
        sys.exit(0)
if mode == "manylines":
    try:
        while True:
            say(b"220-more\r\n" * 100)
    except OSError:
        sys.exit(0)
{"smtp": smtp, "imap": imap, "pop3": pop3}[proto]()

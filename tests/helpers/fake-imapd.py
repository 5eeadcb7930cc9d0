#!/usr/bin/env python3
"""fake-imapd.py: a scriptable plaintext IMAP backend on stdin/stdout for tests.
Bytes received go to $FAKE_LOG. $FAKE_MODE: normal (advertises STARTTLS and
LOGINDISABLED itself), preauth (greets with PREAUTH), nocaps (greeting without
a capability code), notls (advertises neither STARTTLS nor LOGINDISABLED)."""
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeio import IO

io = IO()
mode = os.environ.get("FAKE_MODE", "normal")
CAPS = "IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN LITERAL+ IDLE"
if mode == "notls":
    CAPS = "IMAP4rev1 AUTH=PLAIN LITERAL+ IDLE"
MESSAGE = b"Subject: fake\r\n\r\nline one\r\n.line two\r\n\x00\xff 8-bit\r\n"
if mode == "preauth":
    io.say("* PREAUTH [CAPABILITY %s] logged in already\r\n" % CAPS)
elif mode == "nocaps":
    io.say("* OK fake IMAP ready\r\n")
else:
    io.say("* OK [CAPABILITY %s] fake IMAP ready\r\n" % CAPS)

LIT = re.compile(rb"~?\{(\d+)(\+?)\}\r?\n$")

def command():
    """A whole command: lines and literals, as one byte string with literals inline."""
    whole = b""
    while True:
        l = io.line()
        if l is None:
            return None
        whole += l
        m = LIT.search(l)
        if not m:
            return whole
        n, plus = int(m.group(1)), m.group(2)
        if not plus:
            io.say("+ go ahead\r\n")
        d = io.read(n)
        if d is None:
            return None
        whole += d

while True:
    c = command()
    if c is None:
        break
    parts = c.split(b" ", 2)
    tag = parts[0].decode("latin-1")
    verb = parts[1].strip().upper() if len(parts) > 1 else b""
    if verb == b"CAPABILITY":
        io.say("* CAPABILITY %s\r\n%s OK [CAPABILITY %s] done\r\n" % (CAPS, tag, CAPS))
    elif verb == b"LOGIN":
        io.say("%s OK [CAPABILITY IMAP4rev1 IDLE] logged in (%d bytes)\r\n" % (tag, len(c)))
    elif verb == b"AUTHENTICATE":
        io.say("+ \r\n")
        io.line()
        io.say("%s OK authenticated\r\n" % tag)
    elif verb == b"IDLE":
        io.say("+ idling\r\n")
        io.line()
        io.say("%s OK IDLE terminated\r\n" % tag)
    elif verb in (b"SELECT", b"EXAMINE"):
        io.say("* 1 EXISTS\r\n* FLAGS (\\Seen)\r\n%s OK [READ-WRITE] selected\r\n" % tag)
    elif verb in (b"FETCH", b"UID"):
        io.say(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)\r\n" % (len(MESSAGE), MESSAGE))
        io.say("%s OK fetched\r\n" % tag)
    elif verb == b"APPEND":
        io.say("%s OK appended %d bytes\r\n" % (tag, len(c)))
    elif verb == b"LOGOUT":
        io.say("* BYE fake logging out\r\n%s OK bye\r\n" % tag)
        break
    elif verb == b"STARTTLS":
        io.say("%s OK backend would start TLS itself\r\n" % tag)
    else:
        io.say("%s OK %s done\r\n" % (tag, verb.decode("latin-1")))

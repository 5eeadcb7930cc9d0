#!/usr/bin/env python3
"""fake-pop3d.py: a scriptable plaintext POP3 backend on stdin/stdout for tests.
Bytes received go to $FAKE_LOG. $FAKE_MODE: normal (CAPA lists STLS itself),
nocapa (answers -ERR to CAPA), notls (CAPA without STLS), hugecapa (a CAPA
list of 2 MB)."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeio import IO

io = IO()
mode = os.environ.get("FAKE_MODE", "normal")
MESSAGE = b"Subject: fake\r\n\r\nline one\r\n..dot-stuffed line\r\n\xe9\xff 8-bit\r\n"
io.say("+OK fake POP3 ready <1896.697170952@fake.test>\r\n")
while True:
    l = io.line()
    if l is None:
        break
    words = l.split()
    verb = words[0].upper() if words else b""
    if verb == b"CAPA":
        if mode == "nocapa":
            io.say("-ERR unknown command\r\n")
        elif mode == "hugecapa":
            io.say(b"+OK capabilities\r\n" + b"".join(b"X-CAP-%07d\r\n" % i for i in range(160000)) + b".\r\n")
        elif mode == "notls":
            io.say("+OK capabilities\r\nUSER\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\n.\r\n")
        else:
            io.say("+OK capabilities\r\nUSER\r\nSTLS\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\n.\r\n")
    elif verb in (b"USER", b"PASS", b"APOP"):
        io.say("+OK\r\n")
    elif verb == b"AUTH" and len(words) > 1:
        io.say("+ \r\n")
        io.line()
        io.say("+OK authenticated\r\n")
    elif verb == b"STAT":
        io.say("+OK 1 %d\r\n" % len(MESSAGE))
    elif verb in (b"LIST", b"UIDL") and len(words) == 1:
        io.say("+OK 1 messages\r\n1 %s\r\n.\r\n" % (len(MESSAGE) if verb == b"LIST" else "uid-1"))
    elif verb in (b"RETR", b"TOP"):
        io.say(b"+OK message follows\r\n" + MESSAGE + b".\r\n")
    elif verb == b"QUIT":
        io.say("+OK bye\r\n")
        break
    elif verb == b"STLS":
        io.say("+OK backend would start TLS itself\r\n")
    else:
        io.say("+OK\r\n")

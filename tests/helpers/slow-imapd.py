#!/usr/bin/env python3
"""slow-imapd.py: a tiny plaintext IMAP backend on stdin/stdout that answers
every command after a delay ($SLOW_DELAY_MS, default 30), so that a client's
close_notify (sent at its stdin EOF) arrives before the replies are written.
$SLOW_MODE: notls (default; the proxy then hands the pipes to the engine) or
starttls (advertises STARTTLS itself: the proxy stays and relays)."""
import os, sys, time

delay = int(os.environ.get("SLOW_DELAY_MS", "30")) / 1000.0
caps = "IMAP4rev1 STARTTLS" if os.environ.get("SLOW_MODE") == "starttls" else "IMAP4rev1"
buf = b""


def say(s):
    data = s.encode()
    while data:
        data = data[os.write(1, data):]


def line():
    global buf
    while b"\n" not in buf:
        d = os.read(0, 65536)
        if not d:
            return None
        buf += d
    l, buf = buf.split(b"\n", 1)
    return l.rstrip(b"\r").decode("latin-1")


say("* OK [CAPABILITY %s] slow IMAP ready\r\n" % caps)
while True:
    l = line()
    if l is None:
        break
    words = l.split(" ")
    tag, verb = words[0], (words[1].upper() if len(words) > 1 else "")
    time.sleep(delay)
    if verb == "CAPABILITY":
        say("* CAPABILITY %s\r\n%s OK done\r\n" % (caps, tag))
    elif verb == "LOGOUT":
        say("* BYE slow IMAP logging out\r\n%s OK LOGOUT completed\r\n" % tag)
        break
    else:
        say("%s OK %s completed\r\n" % (tag, verb))

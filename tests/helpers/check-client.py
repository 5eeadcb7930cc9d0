#!/usr/bin/env python3
"""check-client.py --port P --ca F [--pipeline] [--mail]: an SMTP client for
ucspitls-check's tests: EHLO, STARTTLS (with --pipeline, "MAIL FROM:<x>" in
the same write), then inside TLS EHLO, with --mail a message, and QUIT.
Prints each reply's first line as "< line" and "TLS version" after the
handshake. Exit: 0 ok, 2 STARTTLS refused (the session went on in cleartext
to QUIT), 3 handshake failed."""
import argparse, ssl, sys
import smtptest

p = argparse.ArgumentParser()
p.add_argument("--port", required=True)
p.add_argument("--ca", required=True)
p.add_argument("--pipeline", action="store_true")
p.add_argument("--mail", action="store_true")
a = p.parse_args()


def show(r):
    print("< " + r.splitlines()[0])
    sys.stdout.flush()


c = smtptest.Client(a.port, timeout=30)
show(c.reply())
show(c.cmd("EHLO client.test"))
c.send("STARTTLS\r\nMAIL FROM:<x@example.org>\r\n" if a.pipeline else "STARTTLS\r\n")
r = c.reply()
show(r)
if not r.startswith("220"):
    if a.pipeline:
        show(c.reply())
    show(c.cmd("QUIT"))
    sys.exit(2)
try:
    print("TLS " + c.starttls(a.ca))
except (ssl.SSLError, OSError) as e:
    print("TLS failed: %s" % e)
    sys.exit(3)
show(c.cmd("EHLO client.test"))
if a.mail:
    show(c.cmd("MAIL FROM:<x@example.org>"))
    show(c.cmd("RCPT TO:<y@example.org>"))
    show(c.cmd("DATA"))
    show(c.cmd("Subject: t\r\n\r\nhello\r\n."))
show(c.cmd("QUIT"))

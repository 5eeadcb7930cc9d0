#!/usr/bin/env python3
"""stubborn-backend.py: an IMAP backend on stdin/stdout that does not end at
EOF on its stdin (GNU mailutils' imap4d spins there for ever), for
tests/lifetime.bats. It answers "tag OK" to every command; its greeting
lists no STARTTLS, so a proxy may use the direct handoff. With
STUBBORN=term it ignores SIGTERM too, so only SIGKILL ends it. What it
received is appended to $FAKE_LOG; "eof" is written there at EOF."""
import os, signal, sys, time

if os.environ.get("STUBBORN") == "term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
out = sys.stdout.buffer
out.write(b"* OK [CAPABILITY IMAP4rev1] stubborn ready\r\n")
out.flush()
for line in sys.stdin.buffer:
    log.write(line)
    tag = line.split(b" ", 1)[0].strip()
    out.write(tag + b" OK done\r\n")
    out.flush()
log.write(b"eof\n")
while True:
    time.sleep(3600)

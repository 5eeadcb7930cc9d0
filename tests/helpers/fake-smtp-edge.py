#!/usr/bin/env python3
"""fake-smtp-edge.py: an SMTP backend on stdin/stdout for the edge cases of
tests/smtp-edge.bats. Every byte it receives is appended to $FAKE_LOG.
$FAKE_MODE picks one behaviour:
  stall      354 to DATA, then reads nothing more until the file $FAKE_GO
             exists (at most 60 s); then reads the body and answers 250
  ehlo-error EHLO gets a multi-line 554 reply that names STARTTLS
  short-ehlo EHLO gets the one-line "250\\r\\n" (no domain, no keywords)
  rset-fail  RSET gets 421 4.3.2
  slow-rset  RSET is answered only once the file $FAKE_GO exists (at most 60 s)
  chatty     a 3-line greeting; EHLO gets 300 keyword lines with the
             backend's STARTTLS in the middle and a 10000-byte line; HELP
             gets 5000 lines; NOOP gets its reply and then an unsolicited
             "250 extra" line (a backend that talks out of turn)
  close-stdin  closes its stdin, sends the greeting, then once $FAKE_GO
             exists sends "421 4.3.0 backend closing" and exits
  auth       AUTH LOGIN: two 334 challenges, then 235; AUTH PLAIN with an
             initial response: 235
Otherwise: 250 to any command, 221 and exit to QUIT, DATA bodies through
CRLF.CRLF (250 with the body's size).
"""
import os, sys, time
import stdio_smtp

log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
mode = os.environ.get("FAKE_MODE", "")
io = stdio_smtp.Stdio(log)
say, fill, readline, readbody, readn = io.say, io.fill, io.readline, io.readbody, io.readn

def wait_go():
    go = os.environ.get("FAKE_GO", "")
    end = time.monotonic() + 60
    while go and not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.02)


def ehlo_reply():
    if mode == "ehlo-error":
        return "554-fake.test no service\r\n554-STARTTLS is not the point\r\n554 go away\r\n"
    if mode == "short-ehlo":
        return "250\r\n"
    if mode == "chatty":
        lines = ["250-fake.test hello"]
        lines += ["250-X-KEYWORD-%d" % i for i in range(150)]
        lines += ["250-STARTTLS", "250-X-LONG " + "y" * 10000]
        lines += ["250-X-KEYWORD-%d" % i for i in range(150, 300)]
        lines += ["250 8BITMIME"]
        return "".join(l + "\r\n" for l in lines)
    return "250-fake.test hello\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250-STARTTLS\r\n250 CHUNKING\r\n"


if mode == "close-stdin":
    os.close(0)
    say("220 fake.test ESMTP ready\r\n")
    wait_go()
    say("421 4.3.0 backend closing\r\n")
    sys.exit(0)
if mode == "chatty":
    say("220-fake.test\r\n220-chatty backend\r\n220 ready\r\n")
else:
    say("220 fake.test ESMTP ready\r\n")

while True:
    line = readline()
    if line is None:
        break
    verb = line.split(b" ", 1)[0].strip().upper()
    if verb == b"EHLO":
        say(ehlo_reply())
    elif verb == b"RSET" and mode == "rset-fail":
        say("421 4.3.2 shutting down\r\n")
    elif verb == b"RSET" and mode == "slow-rset":
        wait_go()
        say("250 2.0.0 ok\r\n")
    elif verb == b"DATA":
        say("354 go ahead\r\n")
        if mode == "stall":
            wait_go()
        body = readbody()
        if body is None:
            break
        say("250 2.0.0 message accepted, %d bytes\r\n" % len(body))
    elif verb == b"HELP" and mode == "chatty":
        say("".join("214-help line %d\r\n" % i for i in range(5000)) + "214 end of help\r\n")
    elif verb == b"NOOP" and mode == "chatty":
        say("250 2.0.0 ok\r\n250 extra\r\n")
    elif verb == b"AUTH" and mode == "auth":
        if line.upper().startswith(b"AUTH LOGIN"):
            for challenge in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
                say("334 %s\r\n" % challenge)
                if readline() is None:
                    sys.exit(0)
        say("235 2.7.0 authenticated\r\n")
    elif verb == b"QUIT":
        say("221 2.0.0 bye\r\n")
        break
    else:
        say("250 2.0.0 ok\r\n")

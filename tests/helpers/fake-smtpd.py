#!/usr/bin/env python3
"""fake-smtpd.py: a scriptable plaintext SMTP backend on stdin/stdout for tests.
Every byte it receives is appended to $FAKE_LOG. $FAKE_MODE picks a behaviour:
  normal     220 greeting; EHLO lists PIPELINING, AUTH PLAIN, STARTTLS itself,
             8BITMIME, CHUNKING; DATA bodies until CRLF.CRLF; BDAT by size
  multiline  like normal, with a three-line 220- greeting
  close      sends its greeting and exits at once
  silent     sends nothing, reads until EOF
  hang       like normal, but never ends after the client's EOF (a stuck server)
  notls      like normal, but EHLO does not list STARTTLS (a server that leaves TLS to others)
  reap       like normal, but at the end it closes stdin and stdout and waits
             for every child it has (it finds the proxy among them) before it
             exits, as the benchmark's sink does
"""
import os, sys
import stdio_smtp

log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
mode = os.environ.get("FAKE_MODE", "normal")
if os.environ.get("FAKE_ENV"):  # the names in our environment, one per line
    with open(os.environ["FAKE_ENV"], "w") as f:
        f.write("".join(k + "\n" for k in os.environ))
io = stdio_smtp.Stdio(log)
say, fill, readline, readbody, readn = io.say, io.fill, io.readline, io.readbody, io.readn

if mode == "silent":
    while fill():
        pass
    sys.exit(0)
if mode == "multiline":
    say("220-fake.test first greeting line\r\n220-second line\r\n220 fake.test ESMTP ready\r\n")
else:
    say("220 fake.test ESMTP ready\r\n")
if mode == "close":
    sys.exit(0)

while True:
    line = readline()
    if line is None:
        if mode == "hang":
            import time
            while True:
                time.sleep(1)
        break
    verb = line.split(b" ", 1)[0].strip().upper()
    if verb == b"EHLO":
        tls = "" if mode == "notls" else "250-STARTTLS\r\n"
        say("250-fake.test hello\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n" + tls + "250-8BITMIME\r\n250 CHUNKING\r\n")
    elif verb == b"HELO":
        say("250 fake.test\r\n")
    elif verb == b"DATA":
        say("354 go ahead\r\n")
        body = readbody()
        if body is None:
            break
        say("250 2.0.0 message accepted, %d bytes\r\n" % len(body))
    elif verb == b"BDAT":
        n = int(line.split()[1])
        if readn(n) is None:
            break
        say("250 2.0.0 %d octets received\r\n" % n)
    elif verb == b"QUIT":
        say("221 2.0.0 bye\r\n")
        break
    elif verb == b"STARTTLS":
        say("220 backend would start TLS itself\r\n")
    else:
        say("250 2.0.0 ok\r\n")
if mode == "reap":
    os.close(0); os.close(1)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break

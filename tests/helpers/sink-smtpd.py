#!/usr/bin/env python3
"""sink-smtpd.py: a minimal SMTP backend for tests/load.bats (run it with
python3 -S: it imports nothing but os and stdio_smtp). Each message body (the bytes between
DATA's 354 and CRLF.CRLF, as received) is written to
$SINK_DIR/<id>.body, where <id> comes from "MAIL FROM:<load-<id>@...>";
the file is complete before the 250 goes out. EHLO lists STARTTLS when the
backend's pid is even (the proxy then stays in the data path after TLS) and
not when it is odd (a direct handoff is possible): a load run crosses both."""
import os
import stdio_smtp

sink = os.environ["SINK_DIR"]
io = stdio_smtp.Stdio(None)
say, fill, readline, readbody, readn = io.say, io.fill, io.readline, io.readbody, io.readn

say(b"220 sink.test ESMTP\r\n")
ident = "unknown-%d" % os.getpid()
while True:
    line = readline()
    if line is None:
        break
    verb = line.split(b" ", 1)[0].strip().upper()
    if verb == b"EHLO":
        tls = b"250-STARTTLS\r\n" if os.getpid() % 2 == 0 else b""
        say(b"250-sink.test\r\n250-PIPELINING\r\n" + tls + b"250 8BITMIME\r\n")
    elif verb == b"MAIL":
        i = line.find(b"<load-")
        if i >= 0:
            ident = line[i + 6:line.index(b"@", i)].decode()
        say(b"250 2.1.0 ok\r\n")
    elif verb == b"DATA":
        say(b"354 go ahead\r\n")
        body = readbody()
        if body is None:
            break
        tmp = "%s/.%s.tmp" % (sink, ident)
        with open(tmp, "wb") as f:
            f.write(body)
        os.rename(tmp, "%s/%s.body" % (sink, ident))
        say(b"250 2.0.0 queued as %s\r\n" % ident.encode())
    elif verb == b"QUIT":
        say(b"221 2.0.0 bye\r\n")
        break
    else:
        say(b"250 2.0.0 ok\r\n")

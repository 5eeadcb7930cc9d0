#!/usr/bin/env python3
"""fault-smtpd.py: a plaintext SMTP backend that fails on cue, for
tests/faults.bats. Every byte it receives is appended to $FAKE_LOG; events go
to $FAKE_EVENTS, one per line: "fds 0 1 2" (its descriptors when it started,
before it opened anything), "pid N", "greeting", then each command's verb.
$FAULT is ACTION:STEP (empty: never fails). STEP is GREETING (before the
banner) or a command verb (EHLO, RSET, MAIL, HELP...), ACTION is what happens
when the step is reached:
  exit       exit 0 at once, no reply
  kill       SIGKILL itself at once, no reply (a crash)
  half       write the first half of the reply, then SIGKILL itself
  after      write the whole reply, then SIGKILL itself
  flood      answer with an endless multi-line 214 reply (until the proxy
             stops reading and the write fails)
$FAULT_NOTLS=1: EHLO does not list STARTTLS (a direct handoff is possible).
Otherwise: EHLO lists STARTTLS, DATA bodies through CRLF.CRLF, 221 to QUIT,
250 to anything else.
"""
import os, signal, sys
import stdio_smtp

fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
fds = [f for f in fds if os.path.exists("/proc/self/fd/%d" % f)]
log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
ev = open(os.environ.get("FAKE_EVENTS", "/dev/null"), "a", buffering=1)
ev.write("fds %s\n" % " ".join(map(str, fds)))
ev.write("pid %d\n" % os.getpid())
action, _, step = os.environ.get("FAULT", "").partition(":")
io = stdio_smtp.Stdio(log)
say, fill, readline, readbody, readn = io.say, io.fill, io.readline, io.readbody, io.readn

def reply(name, text):
    """Sends text, failing first if this is the step."""
    if name == step:
        ev.write("fault %s:%s\n" % (action, step))
        if action == "exit":
            sys.exit(0)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "half":
            say(text[:len(text) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "flood":
            line = "214-" + "f" * 990 + "\r\n"
            while True:
                say(line * 64)
    say(text)
    if name == step and action == "after":
        os.kill(os.getpid(), signal.SIGKILL)


reply("GREETING", "220 fault.test ESMTP ready\r\n")
ev.write("greeting\n")
while True:
    line = readline()
    if line is None:
        ev.write("eof\n")
        break
    verb = line.split(b" ", 1)[0].strip().upper().decode("latin-1")
    ev.write(verb + "\n")
    if verb == "EHLO":
        tls = "" if os.environ.get("FAULT_NOTLS") == "1" else "250-STARTTLS\r\n"
        reply(verb, "250-fault.test hello\r\n250-PIPELINING\r\n" + tls + "250-8BITMIME\r\n250 SIZE 10240000\r\n")
    elif verb == "DATA":
        reply(verb, "354 go ahead\r\n")
        body = readbody()
        if body is None:
            break
        say("250 2.0.0 message accepted, %d bytes\r\n" % len(body))
    elif verb == "QUIT":
        reply(verb, "221 2.0.0 bye\r\n")
        break
    else:
        reply(verb, "250 2.0.0 ok\r\n")

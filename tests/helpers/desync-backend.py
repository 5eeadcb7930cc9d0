#!/usr/bin/env python3
"""desync-backend.py: SMTP and IMAP backends on stdin/stdout that frame the
client's bytes the way some real server does, for tests/desync.bats.
Every byte received goes to $FAKE_LOG; every unit the backend framed
(a command, a DATA body, a literal) is written to $FAKE_TRACE, one line
each: "CMD <line>", "BODY <n>", "LITERAL <n>", so that a test can tell what
the backend executed. $FAKE_PROTO is smtp or imap; $FAKE_MODE, comma
separated:
  smtp:
    nochunking   EHLO lists no CHUNKING; BDAT gets 502 and its bytes are
                 read as commands (qmail-smtpd and others)
    crsplit      a bare CR ends a command too
    lenientdot   DATA ends at any of LF.LF, LF.CRLF, CRLF.LF, CRLF.CRLF,
                 CR.CR
    double       NOOP is answered twice
  imap:
    idlerefused  IDLE before LOGIN gets BAD (a server that refuses it)
    lenientquote a "{n}" at the end of a line is a literal even inside a
                 quoted string (otherwise quoted strings are honoured and
                 such a line gets BAD)
    double       NOOP gets its tagged OK twice
    nonoop       NOOP gets a tagged NO
  pop3:
    authrefused  AUTH gets -ERR (its SASL lines would be commands)
    double       NOOP is answered twice
    longline     NOOP gets a one-line +OK of 70000 bytes
    plusnoop     NOOP gets a "+ " challenge, then one line is SASL data
  every protocol:
    wssplit      a command's words are split at any run of blanks (SP,
                 HT...), leading blanks skipped (GNU mailutils, Postfix)
  imap:
    atomlit      a "{n}" right after an atom character is part of the
                 atom, no literal: the line ends the command
The greeting of each names no STARTTLS capability the proxy must strip
beyond the usual one."""
import os, re, sys
import stdio_smtp

log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
trace = open(os.environ.get("FAKE_TRACE", "/dev/null"), "a", buffering=1)
modes = set(os.environ.get("FAKE_MODE", "").split(","))
io = stdio_smtp.Stdio(log)
say = io.say


def t(s):
    trace.write(s + "\n")


def words(line):
    """The line's words, as this server splits them."""
    return line.split() if "wssplit" in modes else line.split(b" ")


def smtp_line():
    """A command as this server frames it: up to LF (or CR under crsplit)."""
    while True:
        seps = [io.buf.find(b"\n")]
        if "crsplit" in modes:
            seps.append(io.buf.find(b"\r"))
        seps = [i for i in seps if i >= 0]
        if seps:
            i = min(seps)
            if io.buf[i:i + 2] == b"\r\n":
                line, io.buf = io.buf[:i], io.buf[i + 2:]
            else:
                line, io.buf = io.buf[:i], io.buf[i + 1:]
            if line.endswith(b"\r"):
                line = line[:-1]
            return line
        if not io.fill():
            return None


def smtp_body():
    ends = [b"\r\n.\r\n"]
    if "lenientdot" in modes:
        ends += [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r"]
    data = b"\r\n"
    while True:
        data += io.buf
        io.buf = b""
        hits = [(data.find(e), e) for e in ends if data.find(e) >= 0]
        if hits:
            i, e = min(hits)
            io.buf = data[i + len(e):]
            return data[2:i]
        if not io.fill():
            return None


def smtp():
    say("220 desync.test ESMTP\r\n")
    while True:
        line = smtp_line()
        if line is None:
            return
        t("CMD " + line.decode("latin-1"))
        w = words(line) or [b""]
        verb = w[0].upper()
        arg = b" ".join(w[1:]).decode("latin-1")
        if verb == b"EHLO":
            say("250-desync.test greets %s\r\n250-PIPELINING\r\n%s250 STARTTLS\r\n"
                % (arg, "" if "nochunking" in modes else "250-CHUNKING\r\n"))
        elif verb == b"BDAT":
            if "nochunking" in modes:
                say("502 5.5.1 unknown command\r\n")
            else:
                n = int(arg.split(" ")[0])
                t("BODY %d" % len(io.readn(n)))
                say("250 2.0.0 chunk\r\n")
        elif verb == b"DATA":
            say("354 go\r\n")
            body = smtp_body()
            if body is None:
                return
            t("BODY %d" % len(body))
            say("250 2.0.0 queued %d\r\n" % len(body))
        elif verb == b"AUTH":
            say("235 2.7.0 authenticated\r\n")
        elif verb == b"QUIT":
            say("221 2.0.0 bye\r\n")
            return
        elif verb == b"NOOP" and "double" in modes:
            say("250 2.0.0 ok\r\n250 2.0.0 ok again\r\n")
        elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            say("250 2.0.0 ok %s\r\n" % verb.decode())
        else:
            say("502 5.5.1 unknown command\r\n")


LIT = re.compile(rb"\{(\d+)\+?\}$")


def quoted_at_end(line):
    q = False
    i = 0
    while i < len(line):
        c = line[i:i + 1]
        if q and c == b"\\":
            i += 1
        elif c == b'"':
            q = not q
        i += 1
    return q


def imap():
    say("* OK [CAPABILITY IMAP4rev1 STARTTLS] desync.test ready\r\n")
    logged = False
    while True:
        line = io.readline()
        if line is None:
            return
        line = line.rstrip(b"\r\n")
        t("CMD " + line.decode("latin-1"))
        parts = words(line)
        tag = parts[0].decode("latin-1") if parts else ""
        cmd = parts[1].upper() if len(parts) > 1 else b""
        m = LIT.search(line)
        if m and "atomlit" in modes and m.start() and line[m.start() - 1:m.start()] not in b" ~(":
            m = None
        if m and quoted_at_end(line[:m.start()]) and "lenientquote" not in modes:
            say("%s BAD unterminated quoted string\r\n" % tag)
            continue
        while m:
            n = int(m.group(1))
            if not m.group(0).endswith(b"+}"):
                say("+ go on\r\n")
            t("LITERAL %d" % len(io.readn(n)))
            rest = io.readline()
            if rest is None:
                return
            rest = rest.rstrip(b"\r\n")
            m = LIT.search(rest)
        if cmd == b"IDLE":
            if "idlerefused" in modes and not logged:
                say("%s BAD IDLE not allowed now\r\n" % tag)
                continue
            say("+ idling\r\n")
            done = io.readline()
            if done is None:
                return
            t("CMD " + done.rstrip(b"\r\n").decode("latin-1"))
            say("%s OK IDLE done\r\n" % tag)
        elif cmd == b"LOGIN":
            logged = True
            say("%s OK logged in as %s\r\n" % (tag, parts[2].decode("latin-1") if len(parts) > 2 else ""))
        elif cmd == b"CAPABILITY":
            say("* CAPABILITY IMAP4rev1 STARTTLS IDLE\r\n%s OK done\r\n" % tag)
        elif cmd == b"LOGOUT":
            say("* BYE bye\r\n%s OK bye\r\n" % tag)
            return
        elif cmd == b"NOOP" and "nonoop" in modes:
            say("%s NO not now\r\n" % tag)
        elif cmd == b"NOOP" and "double" in modes:
            say("%s OK noop\r\n%s OK noop again\r\n" % (tag, tag))
        else:
            say("%s OK %s done\r\n" % (tag, cmd.decode("latin-1")))


def sasl_step(challenge, done):
    """One "+ " challenge, one line of SASL data (traced), the final reply."""
    say(challenge)
    data = io.readline()
    if data is None:
        return False
    t("SASL " + data.rstrip(b"\r\n").decode("latin-1"))
    say(done)
    return True


def pop3():
    say("+OK desync.test POP3 ready\r\n")
    while True:
        line = io.readline()
        if line is None:
            return
        line = line.rstrip(b"\r\n")
        t("CMD " + line.decode("latin-1"))
        parts = words(line) or [b""]
        verb = parts[0].upper()
        arg = parts[1].decode("latin-1") if len(parts) > 1 else ""
        if verb == b"CAPA":
            say("+OK caps\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
        elif verb == b"AUTH" and "authrefused" in modes:
            say("-ERR no AUTH here\r\n")
        elif verb == b"AUTH":
            if not sasl_step("+ \r\n", "+OK authenticated\r\n"):
                return
        elif verb == b"USER":
            say("+OK hello %s\r\n" % arg)
        elif verb == b"PASS":
            say("+OK logged in\r\n")
        elif verb == b"NOOP" and "double" in modes:
            say("+OK\r\n+OK again\r\n")
        elif verb == b"NOOP" and "plusnoop" in modes:
            if not sasl_step("+ go on\r\n", "+OK\r\n"):
                return
        elif verb == b"NOOP" and "longline" in modes:
            say("+OK " + "x" * 70000 + "\r\n")
        elif verb == b"QUIT":
            say("+OK bye\r\n")
            return
        else:
            say("+OK\r\n")


{"imap": imap, "pop3": pop3}.get(os.environ.get("FAKE_PROTO"), smtp)()

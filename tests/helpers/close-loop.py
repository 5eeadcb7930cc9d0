#!/usr/bin/env python3
"""close-loop.py: runs many gnutls-cli sessions that write their last
commands and close their side at once, and counts lost replies.

Each session pipes --input (default "g1 NOOP", "g2 LOGOUT", CRLF) into
gnutls-cli, which sends close_notify at its stdin EOF and goes on reading
until the server closes. A session is good when its output holds every
--expect string (default "g1 OK", "* BYE", "g2 OK"), and "clean" unless
gnutls-cli says the server ended "non-properly" (no close_notify). With
--hold-stdin, stdin stays open until gnutls-cli ends: the server ends the
session (after LOGOUT, QUIT), and only then is that check meaningful (after
its own close_notify, gnutls-cli takes a bare TCP EOF for a clean end).

  close-loop.py --port P --ca CA [--sessions N] [--jobs J] [--priority S]
                [--starttls imap|smtp|pop3] [--input TEXT] [--expect S]...
                [--hold-stdin] [--keep DIR]

Prints sessions=, lost=, unclean= lines; with --keep, the transcripts of the
first failures go to DIR. Exit 0 when nothing was lost and every end was
clean, 1 otherwise.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys

INPUT = "g1 NOOP\\r\\ng2 LOGOUT\\r\\n"
NEEDED = ["g1 OK", "* BYE", "g2 OK"]


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--priority", default="NORMAL")
    p.add_argument("--starttls", default="", help="gnutls-cli --starttls-proto (e.g. imap); '' for immediate TLS")
    p.add_argument("--input", default=INPUT, help="what to type; \\r, \\n escapes understood")
    p.add_argument("--expect", action="append", help="a string the output must hold (repeatable)")
    p.add_argument("--hold-stdin", action="store_true", help="keep stdin open until gnutls-cli ends")
    p.add_argument("--keep", help="directory for the transcripts of failed sessions")
    a = p.parse_args()
    a.input = a.input.encode().decode("unicode_escape").encode("latin-1")
    a.expect = [e.encode() for e in (a.expect or NEEDED)]
    return a


def session(a):
    cmd = ["timeout", "30", "gnutls-cli", "--priority", a.priority, "--x509cafile", a.ca, "-p", str(a.port)]
    if a.starttls:
        cmd.append("--starttls-proto=" + a.starttls)
    cmd.append("localhost")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    p.stdin.write(a.input)
    p.stdin.flush()
    if not a.hold_stdin:
        p.stdin.close()
    out = p.stdout.read()   # until gnutls-cli ends (timeout ends it at 30 s)
    if p.wait() == 124:
        out += b"\n[timed out]\n"
    if a.hold_stdin:
        p.stdin.close()
    lost = not all(n in out for n in a.expect)
    unclean = b"non-properly terminated" in out or b"[timed out]" in out
    return lost, unclean, out


def main():
    a = parse()
    lost = unclean = kept = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for i, (l, u, out) in enumerate(pool.map(lambda _: session(a), range(a.sessions))):
            lost += l
            unclean += u
            if (l or u) and a.keep and kept < 5:
                kept += 1
                with open(os.path.join(a.keep, "failed.%d" % i), "wb") as f:
                    f.write(out)
    print("sessions=%d" % a.sessions)
    print("lost=%d" % lost)
    print("unclean=%d" % unclean)
    return 1 if lost or unclean else 0


if __name__ == "__main__":
    sys.exit(main())

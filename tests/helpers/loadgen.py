#!/usr/bin/env python3
"""loadgen.py: N concurrent SMTP sessions (asyncio) against smtpd-starttls,
for tests/load.bats.

usage: loadgen.py --port P --ca CA --sink DIR [--n 500] [--timeout 50]

Session i uses STARTTLS when i is even and stays in cleartext when it is odd.
Every session connects, reads the greeting, says EHLO (and STARTTLS, a TLS
handshake and EHLO again), then waits at a barrier until all N sessions are
that far (all N are open at once), then sends one message of its own (a
distinct, deterministic body of a few KiB to a few hundred KiB, with
dot-stuffed lines and 8-bit bytes), QUIT, reads the 221, and waits for EOF.
Afterwards it checks that $SINK/<i>.body is byte-exact for every i.
Prints a summary; exits 0 only if every session got every reply and every
message arrived intact, 1 otherwise (the first failures are listed)."""
import argparse, asyncio, os, random, ssl, sys, time


def body_of(i):
    rnd = random.Random(i)
    lines = [b"Subject: load %d" % i, b"X-Load-Id: %d" % i, b""]
    size = rnd.choice([2000, 8000, 30000, 200000])
    n = 0
    while n < size:
        k = rnd.choice([0, 1, 5, 60, 76, 200, 998])
        l = bytes(rnd.randrange(33, 256) for _ in range(min(k, 40))) * (k // 40 + 1)
        l = l[:k]
        if rnd.random() < 0.05:
            l = b"." + l
        if l.startswith(b"."):
            l = b"." + l            # dot-stuffed, as a client must send it
        lines.append(l)
        n += len(l) + 2
    lines.append(b"end of message %d" % i)
    return b"".join(l + b"\r\n" for l in lines)


class Fail(Exception):
    pass


async def reply(r, what):
    lines = []
    while True:
        l = await r.readline()
        if not l.endswith(b"\n"):
            raise Fail("%s: connection closed (got %r)" % (what, b"".join(lines) + l))
        lines.append(l)
        if len(l) < 4 or l[3:4] != b"-":
            return b"".join(lines)


async def expect(r, code, what):
    rep = await reply(r, what)
    if not rep.startswith(code):
        raise Fail("%s: %r" % (what, rep))
    return rep


async def session(i, a, ctx, barrier, stats):
    tls = i % 2 == 0
    r, w = await asyncio.open_connection("127.0.0.1", a.port)
    try:
        await expect(r, b"220", "greeting")
        w.write(b"EHLO load%d\r\n" % i)
        rep = await expect(r, b"250", "EHLO")
        if tls:
            if b"STARTTLS" not in rep:
                raise Fail("no STARTTLS in %r" % rep)
            w.write(b"STARTTLS\r\n")
            await expect(r, b"220", "STARTTLS")
            await w.start_tls(ctx, server_hostname="localhost")
            w.write(b"EHLO load%d\r\n" % i)
            rep = await expect(r, b"250", "EHLO in TLS")
            if b"STARTTLS" in rep:
                raise Fail("STARTTLS advertised inside TLS")
        await barrier.wait()
        w.write(b"MAIL FROM:<load-%d@test>\r\n" % i)
        await expect(r, b"250", "MAIL")
        w.write(b"RCPT TO:<sink@test>\r\n")
        await expect(r, b"250", "RCPT")
        w.write(b"DATA\r\n")
        await expect(r, b"354", "DATA")
        w.write(body_of(i) + b".\r\n")
        await expect(r, b"250 2.0.0 queued as %d\r\n" % i, "end of data")
        w.write(b"QUIT\r\n")
        await expect(r, b"221", "QUIT")
        rest = await r.read()
        if rest:
            raise Fail("bytes after 221: %r" % rest[:100])
        stats["tls" if tls else "clear"] += 1
    finally:
        w.close()


class Barrier:
    """Releases everyone once n have arrived, or at a deadline (sessions that
    failed before it never arrive)."""
    def __init__(self, n, seconds):
        self.n, self.count, self.ev = n, 0, asyncio.Event()
        self.deadline = time.monotonic() + seconds
        self.peak = 0

    async def wait(self):
        self.count += 1
        self.peak = max(self.peak, self.count)
        if self.count >= self.n:
            self.ev.set()
        try:
            await asyncio.wait_for(self.ev.wait(), max(0.1, self.deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self.ev.set()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--sink", required=True)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--timeout", type=float, default=50)
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    barrier = Barrier(a.n, a.timeout * 0.6)
    stats = {"tls": 0, "clear": 0}
    t0 = time.monotonic()

    async def one(i):
        try:
            await asyncio.wait_for(session(i, a, ctx, barrier, stats), a.timeout)
            return None
        except (Fail, OSError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            return "session %d: %s: %s" % (i, type(e).__name__, e)

    # connect in waves, not 500 SYNs at once (tcpserver's backlog)
    tasks = []
    for i in range(a.n):
        tasks.append(asyncio.create_task(one(i)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    errors = [e for e in await asyncio.gather(*tasks) if e]
    took = time.monotonic() - t0
    bad = []
    for i in range(a.n):
        path = os.path.join(a.sink, "%d.body" % i)
        try:
            got = open(path, "rb").read()
        except OSError:
            bad.append("message %d: missing" % i)
            continue
        if got != body_of(i):
            bad.append("message %d: %d bytes, expected %d" % (i, len(got), len(body_of(i))))
    print("sessions %d: ok %d (tls %d, cleartext %d), failed %d; all %d open at once: %s; messages intact %d; %.1f s"
          % (a.n, stats["tls"] + stats["clear"], stats["tls"], stats["clear"], len(errors),
             a.n, barrier.peak == a.n, a.n - len(bad), took))
    for e in (errors + bad)[:20]:
        print(e)
    return 0 if not errors and not bad and barrier.peak == a.n else 1


sys.exit(asyncio.run(main()))

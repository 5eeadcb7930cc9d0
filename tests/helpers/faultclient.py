"""faultclient.py: a raw client for the fault and hostile-client suites
(tests/faults.bats, tests/hostile.bats). Cleartext and TLS on the same
socket (ustls), bounded everywhere, with the steps those tests need: half a
ClientHello, close with or without close_notify, wait for EOF and time it.
Import with PYTHONPATH=tests/helpers."""
import select, socket, ssl, time
import ustls


class C:
    def __init__(self, port, ca=None, timeout=20):
        self.deadline = time.monotonic() + timeout
        self.sock = ustls.connect("127.0.0.1", int(port), timeout)
        self.plain = ustls.Plain(self.sock, self.deadline)
        self.ca = ca
        self.tls = None
        self.lt = None

    # ---- bytes
    def send(self, data):
        data = data.encode("latin-1") if isinstance(data, str) else data
        (self.lt or self.plain).sendall(data)

    def line(self):
        l = (self.lt or self.plain).readline()
        if not l.endswith(b"\n"):
            raise EOFError("connection closed; got %r" % l)
        return l.decode("latin-1")

    def reply(self):
        """One whole SMTP reply (all its lines)."""
        lines = [self.line()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.line())
        return "".join(lines)

    def cmd(self, c):
        self.send(c + "\r\n")
        return self.reply()

    # ---- TLS
    def context(self):
        return ustls.make_context(ca=self.ca)

    def handshake(self):
        self.tls = ustls.TLS(self.sock, self.context(), "localhost", self.deadline)
        self.tls.handshake()
        self.lt = ustls.LineTLS(self.tls)
        return self.tls.obj.version()

    def starttls(self, verb="STARTTLS", ok="220"):
        r = self.cmd(verb)
        assert r.startswith(ok), r
        return self.handshake()

    def starttls_fails(self, why):
        """STARTTLS, whose handshake must fail (why: what makes it fail)."""
        try:
            self.starttls()
        except (ssl.SSLError, OSError, EOFError):
            return
        raise AssertionError("TLS worked " + why)

    def client_hello(self):
        """The bytes of a ClientHello for this server (not sent)."""
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.context().wrap_bio(inb, outb, server_side=False, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return outb.read()

    # ---- endings
    def close_notify(self):
        self.tls.close_notify()

    def abort(self):
        """Closes the socket now, without close_notify."""
        self.sock.close()

    def eof(self, seconds=15):
        """Reads until the peer closes (reset counts); returns (bytes, seconds
        it took). Raises ustls.Timeout if it does not close in time."""
        t0 = time.monotonic()
        end = t0 + seconds
        got = b""
        if self.tls:
            self.tls.deadline = end
            if self.lt:
                got, self.lt.buf = self.lt.buf, b""
            try:
                while True:
                    d = self.tls.recv()
                    if not d:
                        break
                    got += d
            except (ssl.SSLError, OSError):
                pass
            return got, time.monotonic() - t0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ustls.Timeout("the server did not close within %s s" % seconds)
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                d = self.sock.recv(65536)
            except BlockingIOError:
                continue
            except (ConnectionResetError, OSError):
                d = b""
            if not d:
                return got, time.monotonic() - t0
            got += d

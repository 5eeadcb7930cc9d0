"""ustls.py: TLS over a plain socket through ssl.MemoryBIO, for the test clients.

The stdlib SSLSocket cannot half-close (its shutdown() drops TLS) and hides
whether the peer sent close_notify; with an SSLObject the client controls every
byte: TCP half-close without close_notify, close_notify then half-close, and a
clean/unclean verdict on the peer's EOF. Every wait is bounded by a deadline.
"""
import hashlib
import select
import socket
import ssl
import time


class Timeout(Exception):
    pass


def unexpected_eof(e):
    """A bare TCP EOF where TLS wanted close_notify: SSLEOFError, or on older
    Pythons (Debian 12's 3.11.2) a plain SSLError with OpenSSL's reason."""
    return isinstance(e, ssl.SSLEOFError) or getattr(e, "reason", None) == "UNEXPECTED_EOF_WHILE_READING"


def make_context(ca=None, cert=None, key=None, verify=True, check_hostname=True,
                 min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The clean/unclean verdict needs OpenSSL to report a bare EOF: Debian's
    # python3 sets OP_IGNORE_UNEXPECTED_EOF by default (a pyenv build does
    # not), which makes a TCP half-close look like close_notify.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    if verify:
        ctx.load_verify_locations(cafile=ca)
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    versions = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
    if min_version:
        ctx.minimum_version = versions[min_version]
    if max_version:
        ctx.maximum_version = versions[max_version]
    return ctx


def connect(host, port, timeout):
    """A TCP connection; the port may take a moment to accept (bounded retry)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic()))
            s.setblocking(False)
            return s
        except (ConnectionRefusedError, socket.timeout):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class Plain:
    """Line reading on a non-blocking socket, one byte at a time, so that no
    byte past a line is consumed (what follows may be TLS)."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline

    def wait(self, r=True, w=False):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout("deadline passed")
        rl, wl, _ = select.select([self.sock] if r else [], [self.sock] if w else [], [], left)
        if not rl and not wl:
            raise Timeout("deadline passed")

    def sendall(self, data):
        view = memoryview(data)
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                self.wait(r=False, w=True)

    def readline(self):
        line = b""
        while not line.endswith(b"\n"):
            try:
                c = self.sock.recv(1)
            except BlockingIOError:
                self.wait()
                continue
            if not c:
                break
            line += c
        return line


class TLS:
    """A client TLS session over sock (already connected, non-blocking)."""

    def __init__(self, sock, ctx, server_hostname, deadline):
        self.sock = sock
        self.inb = ssl.MemoryBIO()
        self.outb = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inb, self.outb, server_side=False, server_hostname=server_hostname)
        self.deadline = deadline
        self.raw_eof = False
        self.pending = b""   # ciphertext not yet on the wire

    # ---- raw socket plumbing
    def _left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout("deadline passed")
        return left

    def _flush(self, block=True):
        self.pending += self.outb.read()
        while self.pending:
            try:
                n = self.sock.send(self.pending)
                self.pending = self.pending[n:]
            except BlockingIOError:
                if not block:
                    return
                select.select([], [self.sock], [], self._left())
            except (BrokenPipeError, ConnectionResetError):
                self.pending = b""
                raise

    def _fill(self):
        """Reads ciphertext into the incoming BIO; False on raw EOF."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                r, _, _ = select.select([self.sock], [], [], self._left())
                if not r:
                    raise Timeout("deadline passed")
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.raw_eof = True
                self.inb.write_eof()
                return False
            self.inb.write(data)
            return True

    # ---- TLS operations
    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    # let OpenSSL turn the EOF into its own error
                    self.obj.do_handshake()
                    raise ssl.SSLError("EOF during the handshake")

    def sendall(self, data):
        view = memoryview(data)
        while view:
            n = self.obj.write(view[:16384])
            view = view[n:]
            self._flush()

    def recv(self):
        """Some decrypted bytes; b"" at the end: self.eof says "clean" or "unclean"."""
        while True:
            try:
                data = self.obj.read(65536)
                self._flush(block=False)
                if data:
                    return data
                self.eof = "clean"
                return b""
            except ssl.SSLWantReadError:
                self._flush(block=False)
                if self.raw_eof:
                    self.eof = "unclean"
                    return b""
                self._fill()
            except ssl.SSLZeroReturnError:
                self.eof = "clean"
                return b""
            except ssl.SSLError as e:
                if not unexpected_eof(e):
                    raise
                self.eof = "unclean"
                return b""

    def shut_tcp(self):
        """TCP half-close without close_notify (what -s engines do)."""
        self._flush()
        self.sock.shutdown(socket.SHUT_WR)

    def close_notify(self):
        """close_notify, then TCP half-close; reading stays possible."""
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        self._flush()
        self.sock.shutdown(socket.SHUT_WR)

    def duplex(self, data, shut="tcp"):
        """Sends data while receiving, then half-closes; returns what came back
        until EOF. The peer's EOF does not stop the sending: a server may
        half-close before it has read everything."""
        out = memoryview(data)
        got = []
        shut_done = False
        eof = None
        eof_fed = False
        while True:
            if not out and not shut_done and not self.pending:
                if shut == "notify":
                    self.close_notify()
                else:
                    self.shut_tcp()
                shut_done = True
            # decrypt whatever is already buffered
            while eof is None:
                try:
                    d = self.obj.read(65536)
                    if not d:
                        eof = "clean"
                    else:
                        got.append(d)
                except ssl.SSLWantReadError:
                    # OpenSSL fails the whole session at a raw EOF, writes
                    # included: it only learns of it once we are done sending.
                    if self.raw_eof and shut_done and not eof_fed:
                        self.inb.write_eof()
                        eof_fed = True
                        continue
                    break
                except ssl.SSLZeroReturnError:
                    eof = "clean"
                except ssl.SSLError as e:
                    if not unexpected_eof(e):
                        raise
                    eof = "unclean"
            if eof is not None and shut_done:
                self.eof = eof
                return b"".join(got)
            if out and not self.pending:
                n = self.obj.write(out[:16384])
                out = out[n:]
            self.pending += self.outb.read()
            rl = [self.sock] if not self.raw_eof else []
            wl = [self.sock] if self.pending else []
            if not rl and not wl:
                continue
            r, w, _ = select.select(rl, wl, [], self._left())
            if not r and not w:
                raise Timeout("deadline passed")
            if w:
                try:
                    n = self.sock.send(self.pending)
                    self.pending = self.pending[n:]
                except BlockingIOError:
                    pass
            if r:
                try:
                    d = self.sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    d = b""
                if d:
                    self.inb.write(d)
                else:
                    self.raw_eof = True

    def read_all(self):
        chunks = []
        while True:
            d = self.recv()
            if not d:
                return b"".join(chunks)
            chunks.append(d)

    def info(self):
        der = self.obj.getpeercert(binary_form=True)
        cn = ""
        try:
            for rdn in self.obj.getpeercert().get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        except (ValueError, AttributeError):
            pass
        return {
            "version": self.obj.version(),
            "cipher": self.obj.cipher()[0],
            "peer_sha256": "SHA256:" + hashlib.sha256(der).hexdigest() if der else "",
            "peer_cn": cn,
        }


class LineTLS:
    """Line reading over a TLS session (buffered: TLS has no byte-exact boundary issue)."""

    def __init__(self, tls):
        self.tls = tls
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            d = self.tls.recv()
            if not d:
                line, self.buf = self.buf, b""
                return line
            self.buf += d
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def sendall(self, data):
        self.tls.sendall(data)

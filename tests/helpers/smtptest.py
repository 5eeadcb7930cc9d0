"""smtptest.py: a raw SMTP test client for the bats suites (import with PYTHONPATH=tests/helpers)."""
import socket, ssl, sys, time

class Client:
    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed; pending: %r" % self.buf)
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return (l + b"\n").decode("latin-1")

    def reply(self):
        """One whole SMTP reply (all its lines) as a string."""
        lines = [self.line()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.line())
        return "".join(lines)

    def cmd(self, c):
        self.send(c + "\r\n")
        return self.reply()

    def closed(self):
        """True if the server closes the connection without sending anything more."""
        try:
            d = self.buf or self.s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return True
        return d == b""

    def starttls(self, cafile, name="localhost"):
        ctx = ssl.create_default_context(cafile=cafile)
        self.s = ctx.wrap_socket(self.s, server_hostname=name)
        self.buf = b""
        return self.s.version()

def until_tag(c, tag):
    """IMAP: every line up to and including the tagged completion for tag."""
    out = []
    while True:
        l = c.line()
        out.append(l)
        if l.startswith(tag + " "):
            return "".join(out)

def multiline(c):
    """POP3: a status line, and when it is +OK the lines through the final dot."""
    first = c.line()
    out = [first]
    if first.startswith("+OK"):
        while out[-1] not in (".\r\n", ".\n"):
            out.append(c.line())
    return "".join(out)

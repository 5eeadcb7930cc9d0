"""stdio_smtp.py: the stdin/stdout plumbing shared by the fake SMTP backends
(fake-smtpd.py, fake-smtp-edge.py, fault-smtpd.py, sink-smtpd.py): raw reads
of fd 0, each appended to a log if one is given, split into lines, DATA
bodies and counted chunks; writes to fd 1 that finish. Imports nothing but
os, so the backends stay cheap to start (sink-smtpd.py runs 500 at once)."""
import os


class Stdio:
    def __init__(self, log=None):
        self.buf = b""
        self.log = log

    def say(self, s):
        data = s.encode() if isinstance(s, str) else s
        while data:
            data = data[os.write(1, data):]

    def fill(self):
        """Reads what fd 0 has; False at EOF."""
        d = os.read(0, 65536)
        if not d:
            return False
        if self.log:
            self.log.write(d)
        self.buf += d
        return True

    def readline(self):
        """The next line with its LF, or None at EOF."""
        while b"\n" not in self.buf:
            if not self.fill():
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def readbody(self):
        """A DATA body through CRLF.CRLF, without it; linear in its size."""
        data = bytearray(b"\r\n")  # the body starts at a line start
        searched = 0
        while True:
            data += self.buf
            self.buf = b""
            i = data.find(b"\r\n.\r\n", searched)
            if i >= 0:
                self.buf = bytes(data[i + 5:])
                return bytes(data[2:i + 2])
            searched = max(0, len(data) - 4)
            if not self.fill():
                return None

    def readn(self, n):
        """Exactly n bytes (a BDAT chunk), or None at EOF."""
        while len(self.buf) < n:
            if not self.fill():
                return None
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

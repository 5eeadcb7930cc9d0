"""fakeio.py: byte I/O on stdin/stdout for the fake backends; every byte received goes to $FAKE_LOG."""
import os

class IO:
    def __init__(self):
        self.log = open(os.environ.get("FAKE_LOG", "/dev/null"), "ab", buffering=0)
        self.buf = b""

    def say(self, s):
        data = s.encode() if isinstance(s, str) else s
        while data:
            data = data[os.write(1, data):]

    def fill(self):
        d = os.read(0, 65536)
        if not d:
            return False
        self.log.write(d)
        self.buf += d
        return True

    def line(self):
        while b"\n" not in self.buf:
            if not self.fill():
                return None
        l, self.buf = self.buf.split(b"\n", 1)
        return l + b"\n"

    def read(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

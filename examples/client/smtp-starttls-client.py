#!/usr/bin/env python3
"""smtp-starttls-client.py FROM TO < message: a UCSPI-TLS SMTP client.

Run it under ucspitlsc, which itself runs under a UCSPI TCP client:

  tcpclient mail.example.org 25 ucspitlsc -k mail.example.org -- \\
    env CAFILE=/etc/ssl/certs/ca-certificates.crt smtp-starttls-client.py a@b c@d < msg

(CAFILE goes to ucspitlsc's environment, not this one's.) The network is on
descriptors 6 (read) and 7 (write). The client speaks EHLO and STARTTLS in
cleartext, writes 'Y' on SSLCTLFD, reads the TLS facts (NAME=value entries up
to an empty one), and sends the message through SSLREADFD/SSLWRITEFD. It
refuses to go on in cleartext if STARTTLS is not offered or fails.
"""
import os, sys

class Line:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd, self.buf = rfd, wfd, b""

    def send(self, s):
        data = s.encode() + b"\r\n"
        while data:
            data = data[os.write(self.wfd, data):]

    def reply(self):
        """One SMTP reply: (code, text of all its lines)."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                d = os.read(self.rfd, 4096)
                if not d:
                    sys.exit("smtp-starttls-client: the server closed the connection")
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            lines.append(line.decode("latin-1").rstrip("\r"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(lines)

def expect(conn, code, what):
    got, text = conn.reply()
    if got != code:
        sys.exit("smtp-starttls-client: %s: %s" % (what, text))
    return text

def main():
    sender, rcpt = sys.argv[1], sys.argv[2]
    message = sys.stdin.buffer.read().decode("latin-1")
    net = Line(6, 7)
    expect(net, 220, "greeting")
    net.send("EHLO client.invalid")
    if "STARTTLS" not in expect(net, 250, "EHLO").upper():
        sys.exit("smtp-starttls-client: the server does not offer STARTTLS; not sending in cleartext")
    net.send("STARTTLS")
    expect(net, 220, "STARTTLS")
    ctl = int(os.environ["SSLCTLFD"])
    os.write(ctl, b"Y")
    info = b""
    while not info.endswith(b"\0\0") and info != b"\0":
        d = os.read(ctl, 4096)
        if not d:
            sys.exit("smtp-starttls-client: TLS handshake failed")
        info += d
    os.close(ctl)
    facts = dict(e.split("=", 1) for e in info.decode().split("\0") if "=" in e)
    sys.stderr.write("smtp-starttls-client: TLS %s %s\n" % (facts.get("SSL_PROTOCOL"), facts.get("SSL_CIPHER")))
    tls = Line(int(os.environ["SSLREADFD"]), int(os.environ["SSLWRITEFD"]))
    tls.send("EHLO client.invalid")
    expect(tls, 250, "EHLO in TLS")
    tls.send("MAIL FROM:<%s>" % sender); expect(tls, 250, "MAIL")
    tls.send("RCPT TO:<%s>" % rcpt); expect(tls, 250, "RCPT")
    tls.send("DATA"); expect(tls, 354, "DATA")
    body = "".join(("." + l if l.startswith(".") else l) + "\r\n" for l in message.splitlines())
    tls.send(body + ".")
    print(expect(tls, 250, "message"))
    tls.send("QUIT"); tls.reply()

main()

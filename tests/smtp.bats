#!/usr/bin/env bats
# smtp.bats: smtpd-starttls under tcpserver + ucspitlsd, with a recording fake
# backend for exact assertions, exim4 -bs as a real backend, and real clients.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
}

teardown() {
  ust_teardown
  [ -z "${EXIM_DIR:-}" ] || rm -rf "$EXIM_DIR"
}

smtp_server() {
  proxy_server smtpd-starttls fake-smtpd.py "$@"
}

@test "smtp: greeting forwarded; EHLO advertises STARTTLS once, the backend's own keyword removed" {
  smtp_server
  run py '
print(c.reply(), end="")
r = c.cmd("EHLO client.test")
print(r, end="")
assert r.count("STARTTLS") == 1, r
assert r.splitlines()[-1] == "250 STARTTLS", r
assert "250-AUTH PLAIN LOGIN" in r and "250-CHUNKING" in r
print(c.cmd("QUIT"), end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "220 fake.test ESMTP ready"* ]]
  # the backend got exactly what the client sent
  [ "$(cat "$FAKE_LOG")" = "$(printf 'EHLO client.test\r\nQUIT\r')" ]
}

@test "smtp: a multi-line greeting passes whole and in order" {
  FAKE_MODE=multiline smtp_server
  run py 'print(c.reply(), end=""); print(c.cmd("QUIT"), end="")'
  [ "$status" -eq 0 ]
  [[ "$output" == "220-fake.test first greeting line"*"220-second line"*"220 fake.test ESMTP ready"*"221 2.0.0 bye"* ]]
}

@test "smtp: cleartext session without STARTTLS: the message passes with bare LF and CR made CRLF, TLS declined at MAIL" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x")
assert c.cmd("MAIL FROM:<a@example.org>").startswith("250")
c.cmd("RCPT TO:<b@example.org>")
assert c.cmd("DATA").startswith("354")
c.send(b"Subject: t\r\n\r\nline\n.\nnot the end\r\n..dotted\r\n\r.\r\n8bit: \xe9\xff\x00\r\n.\r\n")
print(c.reply(), end="")
r = c.cmd("EHLO again")
assert "STARTTLS" not in r, r   # declined: never offered again
print(c.cmd("STARTTLS"), end="")
c.cmd("QUIT")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"250 2.0.0 message accepted"* ]]
  [[ "$output" == *"454 4.7.0 TLS not available"* ]]
  # bare LF and bare CR end their lines as CRLF; the lone dots they touch are no end: stuffed
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: t\r\n\r\nline\r\n..\r\nnot the end\r\n..dotted\r\n\r\n..\r\n8bit: \xe9\xff\x00\r\n.\r\nEHLO again\r\nQUIT\r\n')
  grep -q 'session ended: cleartext (TLS declined)' "$SERVER_LOG"
}

@test "smtp: STARTTLS session: 220 is the last cleartext byte, the message arrives byte-exact inside TLS" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x")
r = c.cmd("STARTTLS")
assert r == "220 2.0.0 Ready to start TLS\r\n", r
assert c.buf == b""
print(c.starttls(CA))
r = c.cmd("EHLO x")
assert "STARTTLS" not in r, r    # the backend offers it, the client must not see it
c.cmd("MAIL FROM:<a@example.org>"); c.cmd("RCPT TO:<b@example.org>")
assert c.cmd("DATA").startswith("354")
c.send(b"body\n.\nstill body\r\n\r.\r\n\xc3\xa9\x80\xff\r\n.\r\n")
print(c.reply(), end="")
print(c.cmd("STARTTLS"), end="")
print(c.cmd("QUIT"), end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "$TLS_VERSION"* ]]
  [[ "$output" == *"503 5.5.1 TLS is already active"* ]]
  # RSET came before TLS; the second STARTTLS never reached the backend
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nRSET\r\nEHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nbody\n.\nstill body\r\n\r.\r\n\xc3\xa9\x80\xff\r\n.\r\nQUIT\r\n')
  grep -q "session ended: tls $TLS_VERSION" "$SERVER_LOG"
}

@test "smtp: pipelined commands in one write are answered in order" {
  smtp_server
  run py '
c.reply()
c.send("EHLO x\r\nNOOP\r\nRSET\r\nSTARTTLS now\r\nNOOP\r\nMAIL FROM:<a@b>\r\n")
print(c.reply(), end=""); print(c.reply(), end=""); print(c.reply(), end="")
print(c.reply(), end=""); print(c.reply(), end=""); print(c.reply(), end="")
c.cmd("QUIT")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "250-fake.test hello"*"250 STARTTLS"*"250 2.0.0 ok"*"250 2.0.0 ok"*"501 5.5.4 Syntax error: STARTTLS takes no parameters"*"250 2.0.0 ok"*"250 2.0.0 ok"* ]]
}

@test "smtp: many pipelined commands in one write: none lost, none reordered" {
  smtp_server
  run py '
c.reply()
n = 3000
c.send("MAIL FROM:<a@b>\r\n"); c.reply()                # recipients: not commands without mail
c.send("".join("RCPT TO:<%d@x>\r\n" % i for i in range(n)))
for i in range(n):
    assert c.reply() == "250 2.0.0 ok\r\n"
print("all", n)
c.cmd("QUIT")'
  [ "$status" -eq 0 ]
  [[ "$output" == "all 3000" ]]
  [ "$(grep -c '^RCPT TO:<[0-9]*@x>' "$FAKE_LOG")" -eq 3000 ]
}

@test "smtp: commands injected after STARTTLS in the same write are never executed" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x")
c.send("STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\n")
print(c.reply(), end="")
assert c.closed()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "421 4.7.0 STARTTLS must be the last command of a pipeline"* ]]
  ! grep -q 'evil' "$FAKE_LOG"
  grep -q 'injection attempt' "$SERVER_LOG"
}

@test "smtp: STARTTLS with parameters gets 501 and TLS stays possible" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x")
print(c.cmd("STARTTLS please"), end="")
print(c.cmd("starttls"), end="")
print(c.starttls(CA))
c.cmd("QUIT")'
  [ "$status" -eq 0 ]
  [[ "$output" == "501 5.5.4"*"220 2.0.0 Ready to start TLS"*"$TLS_VERSION"* ]]
}

@test "smtp: -T refuses mail commands before STARTTLS and hides AUTH until TLS" {
  smtp_server -T
  run py '
c.reply()
r = c.cmd("EHLO x"); print(r, end="")
assert "AUTH" not in r
# BDAT is followed by its chunk whatever the reply (RFC 3030): "hello\r\n" is 7 bytes of data
for cmd in ("MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "AUTH PLAIN AGFAAGI=", "VRFY x", "EXPN x", "BDAT 7 LAST\r\nhello"):
    r = c.cmd(cmd); assert r == "530 5.7.0 Must issue a STARTTLS command first\r\n", (cmd, r)
assert c.cmd("NOOP").startswith("250") and c.cmd("RSET").startswith("250")
c.cmd("STARTTLS"); c.starttls(CA)
r = c.cmd("EHLO x"); assert "AUTH PLAIN" in r, r
assert c.cmd("MAIL FROM:<a@b>").startswith("250")
print("ok")
c.cmd("QUIT")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"ok" ]]
  ! grep -q 'AGFAAGI' "$FAKE_LOG"
  ! grep -q 'VRFY' "$FAKE_LOG"
  ! grep -q 'hello' "$FAKE_LOG"
}

@test "smtp: without a UCSPI-TLS controller STARTTLS is not offered and gets 454" {
  start_server FAKE_LOG="$FAKE_LOG" -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run py '
c.reply()
r = c.cmd("EHLO x"); assert "STARTTLS" not in r, r
assert r.splitlines()[-1] == "250 CHUNKING", r
print(c.cmd("STARTTLS"), end="")
c.cmd("QUIT")'
  [ "$status" -eq 0 ]
  [[ "$output" == "454 4.7.0 TLS not available"* ]]
  ! grep -q STARTTLS "$FAKE_LOG"
}

@test "smtp: overlong and NUL command lines get 500 5.5.2 and never reach the backend" {
  smtp_server -l 1024
  run py '
c.reply()
c.send("NOOP " + "x" * 3000 + "\r\n"); print(c.reply(), end="")
c.send(b"NOOP a\x00b\r\n"); print(c.reply(), end="")
print(c.cmd("NOOP fine"), end="")
c.cmd("QUIT")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "500 5.5.2 Syntax error: line too long"*"500 5.5.2 Syntax error: NUL byte in command"*"250 2.0.0 ok"* ]]
  [ "$(cat "$FAKE_LOG")" = "$(printf 'NOOP fine\r\nQUIT\r')" ]
}

@test "smtp: the pre-TLS idle timeout gives 421 4.4.2 and closes" {
  smtp_server -t 300
  # the greeting may come first or not at all (a loaded machine starts the
  # backend slower than 300 ms): the goodbye is the last line either way
  run py '
lines = []
while True:
    try: lines.append(c.line())
    except EOFError: break
print(lines[-1], end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "421 4.4.2"* ]]
}

@test "smtp: a failed handshake after 220 ends the session; the backend never sees a byte sent after 220" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x")
assert c.cmd("STARTTLS").startswith("220")
c.send("MAIL FROM:<after-220@example.org>\r\nQUIT\r\n")
try:
    print("closed" if c.closed() else "open")
except Exception as e:
    print("closed", e)'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == closed* ]]
  [ "$(cat "$FAKE_LOG")" = "$(printf 'EHLO x\r\nRSET\r')" ]
}

@test "smtp: an early talker (client speaks before the greeting) gets its replies in order, no hang" {
  FAKE_MODE=multiline smtp_server
  run py '
c.send("EHLO early\r\nQUIT\r\n")
print(c.reply(), end=""); print(c.reply(), end=""); print(c.reply(), end="")'
  [ "$status" -eq 0 ]
  [[ "$output" == "220-fake.test"*"250-fake.test hello"*"221 2.0.0 bye"* ]]
}

@test "smtp: a backend that closes early closes the client connection" {
  FAKE_MODE=close smtp_server
  run py 'print(c.reply(), end=""); print("eof" if c.closed() else "open")'
  [ "$status" -eq 0 ]
  [[ "$output" == *"eof" ]]
}

@test "smtp: a backend that never ends after the client left is terminated after the grace period (-g)" {
  FAKE_MODE=hang smtp_server -g 500
  run py '
c.reply(); c.cmd("EHLO x"); c.s.close(); print("left")'
  [ "$status" -eq 0 ]
  wait_grep 'the backend did not end within -g after the client left' "$SERVER_LOG" 10
  wait_grep 'the backend did not end after the session: SIGTERM sent' "$SERVER_LOG" 10
  # teardown checks that no process of the session is left
}

@test "smtp: client half-close after QUIT still gets the 221" {
  smtp_server
  run py '
import socket
c.reply()
c.send("QUIT\r\n"); c.s.shutdown(socket.SHUT_WR)
print(c.reply(), end="")'
  [ "$status" -eq 0 ]
  [[ "$output" == "221 2.0.0 bye"* ]]
}

@test "smtp: BDAT chunks are data, never commands, in cleartext and inside TLS" {
  smtp_server
  run py '
c.reply(); c.cmd("EHLO x"); c.cmd("STARTTLS"); c.starttls(CA); c.cmd("EHLO x")
c.cmd("MAIL FROM:<a@b>"); c.cmd("RCPT TO:<c@d>")
c.send("BDAT 22 LAST\r\nSTARTTLS\r\nQUIT\r\nxxxx\r\n")
print(c.reply(), end="")
print(c.cmd("QUIT"), end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "250 2.0.0 22 octets received"*"221"* ]]
  grep -q 'xxxx' "$FAKE_LOG"
}

@test "smtp: Python smtplib with starttls() delivers through the proxy" {
  smtp_server
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
s.ehlo(); assert s.has_extn('starttls')
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
s.ehlo(); assert not s.has_extn('starttls')
s.sendmail('a@example.org', ['b@example.org'], b'Subject: smtplib\r\n\r\nhello from smtplib\r\n')
s.quit()
print('sent')"
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q 'hello from smtplib' "$FAKE_LOG"
}

@test "smtp: openssl s_client -starttls smtp negotiates TLS and sees no STARTTLS inside" {
  smtp_server
  run s_client -starttls smtp -servername localhost <<<"$(printf 'EHLO inside\r\nQUIT\r\n')"
  echo "$output"
  [[ "$output" == *"Protocol version: $TLS_VERSION"* ]]
  [[ "$output" == *"250 CHUNKING"* ]]
  # the EHLO reply inside TLS (s_client prints the cleartext one's last line first)
  [[ "$output" == *"250-fake.test hello"* ]]
  ! grep -q 'STARTTLS' <<<"$(sed -n '/250-fake.test hello/,$p' <<<"$output")"
}

@test "smtp: curl --ssl-reqd smtp:// sends a message through STARTTLS" {
  smtp_server
  printf 'Subject: curl\r\n\r\nhello from curl\r\n' > "$T/mail.txt"
  run tagged timeout 30 curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" --mail-from a@example.org --mail-rcpt b@example.org \
    --upload-file "$T/mail.txt" "smtp://localhost:$PORT"
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q 'hello from curl' "$FAKE_LOG"
  wait_grep "session ended: tls" "$SERVER_LOG" 10
}

@test "smtp: swaks --tls delivers a message through exim4 -bs, byte-exact body" {
  [ -x /usr/sbin/exim4 ] || skip "exim4 not installed"
  exim_server
  printf 'first line\r\n.leading dot\r\n8bit \xc3\xa9t\xc3\xa9\r\nlast line\r\n' > "$T/body"
  run tagged timeout 60 swaks --server 127.0.0.1 --port "$PORT" --tls --tls-verify --tls-ca-path "$CERTS/ca.pem" \
    --tls-sni localhost --to user@exim.test --from sender@example.org --body "@$T/body" --header 'Subject: swaks'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"220 2.0.0 Ready to start TLS"* ]]
  f=$(ls "$T/exim/maildir/new/")
  [ -n "$f" ]
  # the body as exim stored it: dot-unstuffed, CRLF turned into LF by the maildir, 8-bit bytes intact
  "$PY" -c "import sys; d=open(sys.argv[1],'rb').read(); sys.exit(0 if b'\n\nfirst line\n.leading dot\n8bit \xc3\xa9t\xc3\xa9\nlast line\n' in d else 1)" "$T/exim/maildir/new/$f"
}

@test "smtp: exim4 -bs advertises STARTTLS itself; only the proxy's reaches the client, before TLS only" {
  [ -x /usr/sbin/exim4 ] || skip "exim4 not installed"
  exim_server
  run py '
c.reply()
r = c.cmd("EHLO x"); assert r.count("STARTTLS") == 1 and r.endswith("250 STARTTLS\r\n"), r
c.cmd("STARTTLS"); c.starttls(CA)
r = c.cmd("EHLO x"); assert "STARTTLS" not in r, r
print(c.cmd("QUIT"), end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "221"* ]]
}

@test "smtp: a command line longer than 512 octets before TLS never reaches exim4, which cuts lines at 16384 bytes and runs their rest (-T, -l 20000)" {
  [ -x /usr/sbin/exim4 ] || skip "exim4 not installed"
  exim_server -T -l 20000
  run py '
def hide(cmd): return b"NOOP " + b"x" * 16379 + b"?" + cmd + b"\r\n"
c.reply(); c.cmd("EHLO attacker")
c.send(hide(b"MAIL FROM:<a@evil.example>") + hide(b"RCPT TO:<root@exim.test>") + hide(b"DATA"))
for i in range(3): print(c.reply().strip())
c.send(b"STARTTLS\r\n"); print(c.reply().strip())
c.starttls(CA)
r = c.cmd("EHLO victim"); assert r.startswith("250-") and "354" not in r, r
print(c.cmd("QUIT").strip())'
  echo "$output"
  assert_success
  assert_line --index 0 "500 5.5.2 Syntax error: line too long"
  assert_line --index 2 "500 5.5.2 Syntax error: line too long"
  assert_line --index 3 "220 2.0.0 Ready to start TLS"
  [ -z "$(ls "$T/exim/maildir/new/")" ]
}

@test "smtp: the backend never sees the TLS configuration or TLS facts, even when the controller leaves them to the proxy (ucspitlsd -Z, as s6-ucspitlsd does)" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" TLS_GID=0 \
    "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" \
    SSL_PROTOCOL=stale SSL_CIPHER=stale FAKE_LOG="$FAKE_LOG" FAKE_MODE=normal FAKE_ENV="$T/backend.env" \
    -- "$UST_BIN/ucspitlsd" -Z -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run py 'c.reply(); c.cmd("EHLO x"); c.cmd("QUIT")'
  assert_success
  run cat "$T/backend.env"
  refute_line --regexp '^(CERTFILE|KEYFILE|CAFILE|CADIR|TLS_UID|TLS_GID|SSL_PROTOCOL|SSL_CIPHER|SSLCTLFD|SSLREADFD|SSLWRITEFD|SSLHANDOFF)($|:)'
  assert_line FAKE_MODE
}

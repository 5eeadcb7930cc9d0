#!/usr/bin/env bats
# smtp-edge.bats: smtpd-starttls edge cases beyond smtp.bats: AUTH exchanges
# (framing and what -v 2 may log), a refused BDAT's chunk, backpressure
# against a backend that stops reading, big messages inside TLS, a controller
# that is gone, odd and chatty backends, bytes sent after STARTTLS in a later
# write, half-close inside TLS, and a proxy started with SIGPIPE at its
# default. The backend is tests/helpers/fake-smtp-edge.py, which records every
# byte it receives in $FAKE_LOG.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
  GO=$T/go   # the fake backend's "go on" file (FAKE_GO)
}

teardown() {
  touch "$GO"   # a stalled fake backend ends by itself
  ust_teardown
}

FAKE=$SCRIPTS/fake-smtp-edge.py

# edge_server [proxy options...]: ucspitlsd + smtpd-starttls -v 2 in front of
# the fake backend in mode $FAKE_MODE.
edge_server() {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    FAKE_LOG="$FAKE_LOG" FAKE_MODE="${FAKE_MODE:-}" FAKE_GO="$GO" \
    -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/smtpd-starttls" -v 2 "$@" -- "$PY" "$FAKE"
}

# py 'code': like proxy.bash's py, with GO, LOG (the backend's bytes), SLOG
# (the server log) and saw(data, file), which waits until data is in file.
py() {
  tagged timeout 60 "$PY" -c "
import smtptest, sys, os, time
CA = '$CERTS/ca.pem'
GO = '$GO'
LOG = '$FAKE_LOG'
SLOG = '$SERVER_LOG'
def saw(data, path, seconds=10):
    end = time.monotonic() + seconds
    while data not in open(path, 'rb').read():
        assert time.monotonic() < end, '%r never showed up in %s' % (data, path)
        time.sleep(0.02)
c = smtptest.Client($PORT)
$1"
}

# ------------------------------------------------------------------ AUTH

@test "smtp-edge: SASL responses are data for the backend, never commands, before and inside TLS" {
  FAKE_MODE=auth edge_server
  # "STARTTLS" is valid base64: as a SASL response it is a credential, not a command
  run py '
c.reply(); c.cmd("EHLO x")
assert c.cmd("STARTTLS").startswith("220"); c.starttls(CA); c.cmd("EHLO x")
assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6\r\n"
r = c.cmd("STARTTLS"); assert r == "334 UGFzc3dvcmQ6\r\n", r
r = c.cmd("cGFzc3dvcmQ="); assert r.startswith("235"), r
print(c.cmd("QUIT").rstrip())'
  echo "$output"
  assert_success
  assert_output "221 2.0.0 bye"
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nRSET\r\nEHLO x\r\nAUTH LOGIN\r\nSTARTTLS\r\ncGFzc3dvcmQ=\r\nQUIT\r\n')
}

@test "smtp-edge: -v 2 traces commands by verb but never logs AUTH arguments or SASL responses" {
  FAKE_MODE=auth edge_server
  run py '
c.reply(); c.cmd("EHLO x")
assert c.cmd("AUTH PLAIN AHVzZXIAc2VjcmV0MQ==").startswith("235")
assert c.cmd("AUTH LOGIN").startswith("334")
assert c.cmd("dXNlcm5hbWUy").startswith("334")
assert c.cmd("c2VjcmV0Mg==").startswith("235")
c.cmd("QUIT")'
  assert_success
  wait_grep 'session ended' "$SERVER_LOG"
  cat "$SERVER_LOG"
  grep -q 'command: AUTH' "$SERVER_LOG"
  grep -q 'SASL response (not shown)' "$SERVER_LOG"
  ! grep -qE 'AHVzZXIA|dXNlcm5hbWUy|c2VjcmV0' "$SERVER_LOG"
}

# ------------------------------------------------------------------ BDAT under -T

@test "smtp-edge: -T refuses BDAT and drops its chunk: chunk bytes are never executed" {
  edge_server -T
  run py '
c.reply(); c.cmd("EHLO x")
c.send("BDAT 14 LAST\r\nRSET\r\nVRFY x\r\n")   # the chunk: "RSET\r\nVRFY x\r\n", 14 bytes
print(c.reply(), end="")
print(c.cmd("NOOP"), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output "$(printf '530 5.7.0 Must issue a STARTTLS command first\r\n250 2.0.0 ok\r')"
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nNOOP\r\nQUIT\r\n')
}

# ------------------------------------------------------------------ backpressure and big data

@test "smtp-edge: a body the backend does not read stops the client (bounded memory), then arrives whole" {
  FAKE_MODE=stall edge_server
  run py '
import select
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<a@b>"); c.cmd("RCPT TO:<c@d>")
assert c.cmd("DATA").startswith("354")
line = b"x" * 998 + b"\r\n"
body = line * (32 * 1024 * 1024 // len(line))
s = c.s; s.setblocking(False)
sent = 0
while sent < len(body):
    _, w, _ = select.select([], [s], [], 1.5)
    if not w:
        break                      # no room for 1.5 s: the proxy stopped reading us
    try:
        sent += s.send(body[sent:sent + 65536])
    except BlockingIOError:
        pass
print("blocked after", sent, "of", len(body))
assert sent < 24 * 1024 * 1024, "the proxy read everything the client sent: %d bytes" % sent
open(GO, "w").close()            # the backend reads again
while sent < len(body):
    select.select([], [s], [], 10)
    try:
        sent += s.send(body[sent:sent + 65536])
    except BlockingIOError:
        pass
s.setblocking(True)
c.send(b".\r\n")
print(c.reply().rstrip())
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_line "250 2.0.0 message accepted, $(( (32 * 1024 * 1024 / 1000) * 1000 )) bytes"
}

@test "smtp-edge: an 8 MB message with every byte value arrives byte-exact inside TLS" {
  edge_server
  "$PY" -c '
import random, sys
rnd = random.Random(7)
lines = []
size = 0
while size < 8 * 1024 * 1024:
    n = rnd.choice([0, 1, 2, 80, 998, 4000, 70000])
    l = bytes(rnd.randrange(256) for _ in range(min(n, 64))) * (n // 64 + 1)
    l = l[:n].replace(b"\r", b"").replace(b"\n", b"")
    if l.startswith(b"."): l = b"." + l          # dot-stuffing
    lines.append(l); size += len(l) + 2
lines += [b"lone LF dot\n.\nstill body", b"CR dot\r.\rstill body", b"..", b"\x00\xff\x80"]
body = b"".join(l + b"\r\n" for l in lines)
open(sys.argv[1], "wb").write(body)' "$T/body"
  run py '
c.reply(); c.cmd("EHLO x"); c.cmd("STARTTLS"); c.starttls(CA); c.cmd("EHLO x")
c.cmd("MAIL FROM:<a@b>"); c.cmd("RCPT TO:<c@d>")
assert c.cmd("DATA").startswith("354")
c.send(open("'"$T/body"'", "rb").read() + b".\r\n")
print(c.reply(), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output --partial "250 2.0.0 message accepted"
  { printf 'EHLO x\r\nRSET\r\nEHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n' ; cat "$T/body" ; printf '.\r\nQUIT\r\n' ; } > "$T/expected"
  cmp "$FAKE_LOG" "$T/expected"
}

# ------------------------------------------------------------------ TLS availability

@test "smtp-edge: a controller that is gone: STARTTLS not advertised, 454, nothing reaches the backend" {
  start_server FAKE_LOG="$FAKE_LOG" -- "$PY" "$SCRIPTS/fake-controller.py" gone \
    "$UST_BIN/smtpd-starttls" -- "$PY" "$FAKE"
  run py '
c.reply()
r = c.cmd("EHLO x"); print(r, end="")
assert "STARTTLS" not in r and r.endswith("250 CHUNKING\r\n"), r
print(c.cmd("STARTTLS").rstrip())
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_line "454 4.7.0 TLS not available"
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nQUIT\r\n')
  wait_grep 'controller is gone' "$SERVER_LOG"
}

@test "smtp-edge: a live controller that is never asked for TLS is released when the client declines" {
  start_server FAKE_LOG="$FAKE_LOG" -- "$PY" "$SCRIPTS/fake-controller.py" idle \
    "$UST_BIN/smtpd-starttls" -- "$PY" "$FAKE"
  run py '
c.reply()
r = c.cmd("EHLO x"); assert r.endswith("250 STARTTLS\r\n"), r
assert c.cmd("MAIL FROM:<a@b>").startswith("250")
print(c.cmd("QUIT").rstrip())'
  assert_success
  assert_output "221 2.0.0 bye"
  wait_sessions_gone 10
}

@test "smtp-edge: the backend cannot RSET: STARTTLS gets 454 and the session goes on in cleartext" {
  FAKE_MODE=rset-fail edge_server
  run py '
c.reply(); c.cmd("EHLO x")
print(c.cmd("STARTTLS"), end="")
print(c.cmd("NOOP"), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output "$(printf '454 4.7.0 TLS not available due to temporary reason\r\n250 2.0.0 ok\r')"
  wait_grep 'STARTTLS refused: the backend did not accept RSET' "$SERVER_LOG"
}

# ------------------------------------------------------------------ odd and chatty backends

@test "smtp-edge: a non-2xx EHLO reply passes untouched, its STARTTLS line included" {
  FAKE_MODE=ehlo-error edge_server
  run py '
c.reply()
print(c.cmd("EHLO x"), end="")
c.cmd("QUIT")'
  assert_success
  assert_output "$(printf '554-fake.test no service\r\n554-STARTTLS is not the point\r\n554 go away\r')"
}

@test "smtp-edge: a bare '250' EHLO reply keeps its CRLF when STARTTLS is added" {
  FAKE_MODE=short-ehlo edge_server
  run py '
c.reply()
sys.stdout.write(repr(c.cmd("EHLO x")))
c.cmd("QUIT")'
  assert_success
  assert_output "'250-\\r\\n250 STARTTLS\\r\\n'"
}

@test "smtp-edge: a chatty backend: long greeting, 300-keyword EHLO with a 10000-byte line, 5000-line HELP, an unsolicited line" {
  FAKE_MODE=chatty edge_server
  run py '
g = c.reply(); assert g.count("\n") == 3, g
r = c.cmd("EHLO x")
lines = r.split("\r\n")[:-1]
assert r.count("STARTTLS") == 1 and lines[-1] == "250 STARTTLS", lines[-3:]
assert all(l.startswith("250-") for l in lines[:-1])
assert "250-8BITMIME" in lines and "250-X-KEYWORD-299" in lines and "250-X-KEYWORD-0" in lines
assert "250-X-LONG " + "y" * 10000 in lines
assert len(lines) == 304, len(lines)  # 303 of the backend (its STARTTLS gone) + ours
h = c.cmd("HELP"); hl = h.split("\r\n")[:-1]
assert len(hl) == 5001 and hl[4999] == "214-help line 4999" and hl[-1] == "214 end of help", hl[-2:]
assert c.cmd("NOOP") == "250 2.0.0 ok\r\n"
assert c.cmd("RSET") == "250 extra\r\n"      # said out of turn: passed on, in order
assert c.reply() == "250 2.0.0 ok\r\n"
print(c.cmd("QUIT").rstrip())'
  echo "$output"
  assert_success
  assert_output "221 2.0.0 bye"
}

# ------------------------------------------------------------------ after STARTTLS

@test "smtp-edge: bytes sent after STARTTLS but before 220 in a later write never reach the backend" {
  FAKE_MODE=slow-rset edge_server
  run py '
c.reply(); c.cmd("EHLO x")
c.send("STARTTLS\r\n")
saw(b"RSET\r\n", LOG)                         # STARTTLS accepted, its RSET is on the way
c.send("MAIL FROM:<evil@example.org>\r\nQUIT\r\n")
open(GO, "w").close()
print(c.line().rstrip())
rest = c.buf                                  # then a TLS alert at most, never an SMTP reply
try:
    while True:
        more = c.s.recv(65536)
        if not more: break
        rest += more
except OSError:
    pass
assert b"250 " not in rest and b"221 " not in rest, rest'
  echo "$output"
  assert_success
  assert_output "220 2.0.0 Ready to start TLS"
  wait_sessions_gone 10
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nRSET\r\n')
}

@test "smtp-edge: inside TLS, a client that half-closes after QUIT still gets the 221" {
  edge_server
  run py '
import ssl, ustls
c.reply(); c.cmd("EHLO x")
assert c.cmd("STARTTLS").startswith("220")
c.s.setblocking(False)
t = ustls.TLS(c.s, ssl.create_default_context(cafile=CA), "localhost", time.monotonic() + 20)
t.handshake()
t.sendall(b"EHLO x\r\nQUIT\r\n")
t.shut_tcp()
got = b""
while True:
    d = t.recv()
    if not d: break
    got += d
print(got.decode().splitlines()[-1])'
  echo "$output"
  assert_success
  assert_output "221 2.0.0 bye"
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nRSET\r\nEHLO x\r\nQUIT\r\n')
}

# ------------------------------------------------------------------ process robustness

@test "smtp-edge: started with SIGPIPE at its default, the proxy survives a backend that stopped reading" {
  start_server FAKE_LOG="$FAKE_LOG" FAKE_MODE=close-stdin FAKE_GO="$GO" \
    -- "$PY" "$SCRIPTS/smtp-sigdfl.py" "$UST_BIN/smtpd-starttls" -v 2 -- "$PY" "$FAKE"
  run py '
c.reply()
c.send("NOOP\r\n")                   # to be written into a pipe nobody reads: EPIPE
saw(b"command: NOOP", SLOG)          # queued for the backend, which has not spoken again
open(GO, "w").close()
print(c.reply().rstrip())'
  echo "$output"
  assert_success
  assert_output "421 4.3.0 backend closing"
  wait_grep 'session ended' "$SERVER_LOG"
}

@test "smtp-edge: -v 1 logs one line for a TLS session: address, protocol, cipher" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" \
    -- "$UST_BIN/ucspitlsd" -v 0 -- "$UST_BIN/smtpd-starttls" -v 1 -- "$PY" "$FAKE"
  run py '
c.reply(); c.cmd("EHLO x"); c.cmd("STARTTLS"); c.starttls(CA); c.cmd("EHLO x"); c.cmd("QUIT")'
  assert_success
  wait_grep 'session ended' "$SERVER_LOG"
  cat "$SERVER_LOG"
  [ "$(grep -c '^smtpd-starttls: ' "$SERVER_LOG")" -eq 1 ]
  grep -qE "^smtpd-starttls: info: 127\.0\.0\.1: session ended: tls $TLS_VERSION [A-Z0-9_-]+$" "$SERVER_LOG"
}

#!/usr/bin/env bats
# handoff.bats: the direct handoff (ucspitlsd's 'H', DESIGN.md §6): when it is
# used, when it is not, and that the session is the same either way.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
}

teardown() {
  ust_teardown
}

# Python prelude: live tagged processes by name (zombies excluded).
PROCS='
import os
def live(name):
    n = 0
    tag = ("UST_TAG=" + os.environ["UST_TAG"]).encode()
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            if tag not in open("/proc/%s/environ" % p, "rb").read().split(b"\0"):
                continue
            st = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
            if st != "Z" and open("/proc/%s/comm" % p).read().strip() == name:
                n += 1
        except OSError:
            pass
    return n
def gone(name):
    import time
    end = time.time() + 5
    while live(name) and time.time() < end:
        time.sleep(0.02)
    return live(name) == 0
def midsession():
    # the proxy has left: it says so, and the engine has not logged an end
    log = open(os.environ["SERVER_LOG"]).read()
    return "session handed off: tls " in log and "tlsd-io: info: 127.0.0.1: session ended" not in log
'

# The session ended in TLS with the proxy in the path all along.
assert_stayed() {
  wait_grep 'session ended: tls ' "$SERVER_LOG" 10
  run grep -c 'direct handoff' "$SERVER_LOG"
  assert_output 0
}

# smtp_handed_off START [options]: START (proxy_server or own_proxy_server)
# runs smtpd-starttls before a backend without STARTTLS; a whole session
# that the proxy leaves after the handshake.
smtp_handed_off() {
  FAKE_MODE=notls "$1" smtpd-starttls fake-smtpd.py "${@:2}"
  run py "$PROCS"'
c.reply()
assert "STARTTLS" in c.cmd("EHLO one.test")
assert live("smtpd-starttls") >= 1   # with -C its controller child is one too
assert c.cmd("STARTTLS").startswith("220 ")
c.starttls(CA)
r = c.cmd("EHLO two.test")
assert "STARTTLS" not in r and "AUTH PLAIN" in r, r
assert gone("smtpd-starttls"), "the proxy is still in the path"
assert live("tlsd-io") == 1
assert midsession(), open(os.environ["SERVER_LOG"]).read()
assert c.cmd("MAIL FROM:<a@example.org>").startswith("250")
assert c.cmd("RCPT TO:<b@example.org>").startswith("250")
assert c.cmd("DATA").startswith("354")
body = b"".join(b"line %d \xe9\x00 ..x\r\n" % i for i in range(40000)) + b"..leading dot\r\n"
c.send(body + b".\r\n")
print(c.reply(), end="")
print(c.cmd("QUIT"), end="")'
  echo "$output"
  assert_success
  assert_line --partial "250 2.0.0 message accepted"
  assert_line --partial "221"
  wait_grep 'session handed off: tls .* \(direct handoff' "$SERVER_LOG" 10
  # the engine's line, at the real end: TLS, how it ended, the bytes
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: tls TLSv1\.[23] .*: the (peer|application) ended first.*; bytes in [1-9][0-9]*, out [1-9]' "$SERVER_LOG" 10
  # the backend saw the pre-TLS dialogue (with the proxy's RSET), then the TLS one, untouched
  head -c 200 "$FAKE_LOG" | grep -q $'^EHLO one.test\r\nRSET\r\nEHLO two.test\r\nMAIL FROM:<a@example.org>\r\n'
  grep -qa $'^\\.\\.leading dot\r$' "$FAKE_LOG"
  wait_sessions_gone 10
}

@test "handoff: smtp, backend without STARTTLS: the proxy leaves after the handshake; the session goes on byte-exact" {
  smtp_handed_off proxy_server
}

@test "handoff: -d keeps the proxy in the path (a second STARTTLS is still the proxy's 503)" {
  FAKE_MODE=notls proxy_server smtpd-starttls fake-smtpd.py -d
  run py "$PROCS"'
c.reply(); c.cmd("EHLO one.test")
assert c.cmd("STARTTLS").startswith("220 ")
c.starttls(CA)
c.cmd("EHLO two.test")
assert live("smtpd-starttls") == 1
print(c.cmd("STARTTLS"), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output --partial "503 5.5.1 TLS is already active"
  assert_stayed
}

# smtp_filtering START: START runs smtpd-starttls before a backend that
# advertises STARTTLS itself; the proxy stays after TLS and answers a second
# STARTTLS itself.
smtp_filtering() {
  "$1" smtpd-starttls fake-smtpd.py
  run py "$PROCS"'
c.reply(); c.cmd("EHLO one.test")
assert c.cmd("STARTTLS").startswith("220 ")
c.starttls(CA)
r = c.cmd("EHLO two.test")
assert "STARTTLS" not in r, r
assert live("smtpd-starttls") == 1
print(c.cmd("STARTTLS"), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output --partial "503 5.5.1 TLS is already active"
  assert_stayed
}

@test "handoff: a backend that advertises STARTTLS itself keeps the proxy filtering after TLS" {
  smtp_filtering proxy_server
}

@test "handoff: STARTTLS before any EHLO (the backend's capabilities unseen): the proxy stays" {
  FAKE_MODE=notls proxy_server smtpd-starttls fake-smtpd.py
  run py "$PROCS"'
c.reply()
assert c.cmd("STARTTLS").startswith("220 ")
c.starttls(CA)
c.cmd("EHLO two.test")
assert live("smtpd-starttls") == 1
c.cmd("QUIT"); print("ok")'
  echo "$output"
  assert_success
  assert_stayed
}

@test "handoff: under a controller without SSLHANDOFF (sslserver-style) the plain protocol is used" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_MODE=notls \
    -- "$PY" "$SCRIPTS/keepopen-controller.py" "$UST_BIN/tlsd-io" "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run py '
c.reply(); c.cmd("EHLO one.test")
assert c.cmd("STARTTLS").startswith("220 ")
c.starttls(CA)
assert "AUTH" in c.cmd("EHLO two.test")
print(c.cmd("QUIT"), end="")'
  echo "$output"
  assert_success
  assert_output --partial "221"
  assert_stayed
}

imap_handed_off() {
  FAKE_MODE=notls "$1" imapd-starttls fake-imapd.py
  run py "$PROCS"'
c.line()
c.send("a1 CAPABILITY\r\n")
assert "STARTTLS" in until_tag(c, "a1")
c.send("a2 STARTTLS\r\n"); assert until_tag(c, "a2").startswith("a2 OK")
c.starttls(CA)
c.send("a3 CAPABILITY\r\n"); r = until_tag(c, "a3")
assert "STARTTLS" not in r, r
assert gone("imapd-starttls")
assert midsession(), open(os.environ["SERVER_LOG"]).read()
c.send("a4 LOGIN user pass\r\n"); assert "a4 OK" in until_tag(c, "a4")
c.send("a5 SELECT INBOX\r\n"); until_tag(c, "a5")
c.send("a6 FETCH 1 BODY[]\r\n"); print(until_tag(c, "a6"), end="")
c.send("a7 LOGOUT\r\n"); until_tag(c, "a7")'
  echo "$output"
  assert_success
  assert_output --partial "line one"
  wait_grep 'session handed off: tls .* \(direct handoff' "$SERVER_LOG" 10
  # the engine's line, at the real end: TLS, how it ended, the bytes
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: tls TLSv1\.[23] .*: the (peer|application) ended first.*; bytes in [1-9][0-9]*, out [1-9]' "$SERVER_LOG" 10
  wait_sessions_gone 10
}

@test "handoff: imap, backend without STARTTLS: handed off; CAPABILITY, LOGIN and a literal FETCH after TLS" {
  imap_handed_off proxy_server
}

pop3_handed_off() {
  FAKE_MODE=notls "$1" pop3d-starttls fake-pop3d.py
  run py "$PROCS"'
c.line()
c.send("CAPA\r\n"); assert "STLS" in multiline(c)
assert c.cmd("STLS").startswith("+OK")
c.starttls(CA)
assert gone("pop3d-starttls")
assert midsession(), open(os.environ["SERVER_LOG"]).read()
c.send("CAPA\r\n"); r = multiline(c); assert "STLS" not in r, r
assert c.cmd("USER u").startswith("+OK"); assert c.cmd("PASS p").startswith("+OK")
c.send("RETR 1\r\n"); print(multiline(c), end="")
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output --partial "line one"
  wait_grep 'session handed off: tls .* \(direct handoff' "$SERVER_LOG" 10
  # the engine's line, at the real end: TLS, how it ended, the bytes
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: tls TLSv1\.[23] .*: the (peer|application) ended first.*; bytes in [1-9][0-9]*, out [1-9]' "$SERVER_LOG" 10
  wait_sessions_gone 10
}

@test "handoff: pop3, backend without STLS: handed off after CAPA; RETR after TLS" {
  pop3_handed_off proxy_server
}

# ------------------------------------------------------------- -C: no ucspitlsd

@test "-C: smtpd-starttls as its own controller: handed off, byte-exact; no ucspitlsd; the backend sees no TLS variable" {
  smtp_handed_off own_proxy_server
  run grep -c ucspitlsd "$SERVER_LOG"
  assert_output 0
  # the fake backend wrote its environment's names at start
  run cat "$T/backend.env"
  refute_line --regexp '^(CERTFILE|KEYFILE|CAFILE|CADIR|TLS_UID|TLS_GID|SSLCTLFD|SSLREADFD|SSLWRITEFD|SSLHANDOFF)$'
  assert_line FAKE_MODE
}

@test "-C: imapd-starttls as its own controller: handed off" {
  imap_handed_off own_proxy_server
}

@test "-C: pop3d-starttls as its own controller: handed off" {
  pop3_handed_off own_proxy_server
}

@test "-C: a backend that advertises STARTTLS itself keeps the proxy filtering after TLS (503 to a second STARTTLS)" {
  smtp_filtering own_proxy_server
}

@test "-C: without a server certificate, or under a controller already, exit 100 at start with the reason" {
  run tagged env -u CERTFILE -u KEYFILE "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "-C: bad TLS environment: no server certificate"
  run tagged env CERTFILE="$CERTS/server-ec.pem" "$UST_BIN/imapd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial KEYFILE
  run tagged env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" SSLCTLFD=3 "$UST_BIN/pop3d-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "already under a UCSPI-TLS controller"
  # a key that is no key, a missing one, a top-level wildcard: at start, not after the 220
  run tagged env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.pem" "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "not a PEM certificate or private key, or unreadable: $CERTS/server-ec.pem"
  run tagged env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$T/missing.key" "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "$T/missing.key"
  run tagged env -u CERTFILE -u KEYFILE "CERTFILE:*.org=$CERTS/server-ec.pem" "KEYFILE:*.org=$CERTS/server-ec.key" "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "invalid SNI name"
}

@test "-C: an SNI-only configuration (CERTFILE:name, no default) is the engine's, accepted at start" {
  run tagged env -u CERTFILE -u KEYFILE "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" \
    "$UST_BIN/smtpd-starttls" -C -- "$PY" -c 'print("220 x")' </dev/null
  echo "$output"
  assert_success
  assert_line "220 x"
}

# An application of its own under ucspitlsd: says "go", hands off its own
# pipes with 'H' (or sends a bare 'H'), then serves through those pipes.
handoff_app() {
  cat > "$T/app.py" <<'PY'
import os, socket, sys, threading
ctl = socket.socket(fileno=int(os.environ["SSLCTLFD"]))
assert os.environ.get("SSLHANDOFF") == "1"
os.write(1, b"go\r\n")
if sys.argv[1] == "bare":
    ctl.send(b"H")
    sys.exit(0)
to_eng_r, to_eng_w = os.pipe()      # the engine reads what we write on to_eng_w
from_eng_r, from_eng_w = os.pipe()  # the engine writes what the peer sent
socket.send_fds(ctl, [b"H"], [to_eng_r, from_eng_w])
os.close(to_eng_r); os.close(from_eng_w)
info = b""
while not info.endswith(b"\0\0"):
    d = ctl.recv(4096)
    assert d, "no info block"
    info += d
proto = [e for e in info.split(b"\0") if e.startswith(b"SSL_PROTOCOL=")][0]
os.write(to_eng_w, proto + b"\n")
line = b""
while not line.endswith(b"\n"):
    d = os.read(from_eng_r, 1)
    if not d: break
    line += d
os.write(to_eng_w, b"echo " + line)
PY
}

@test "ucspitlsd 'H': the engine uses the two descriptors the application passed" {
  handoff_app
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/ucspitlsd" -v 2 "$PY" "$T/app.py" pass
  run tagged timeout 20 "$PY" - "$PORT" "$CERTS/ca.pem" <<'PY'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
assert s.recv(4) == b"go\r\n"
t = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(s, server_hostname="localhost")
f = t.makefile("rb")
print(f.readline().decode().strip())
t.sendall(b"hello through H\n")
print(f.readline().decode().strip())
PY
  echo "$output"
  assert_success
  assert_line --index 0 --regexp '^SSL_PROTOCOL=TLSv1\.[23]$'
  assert_line --index 1 "echo hello through H"
  grep -q 'direct handoff: the engine takes' "$SERVER_LOG"
  wait_sessions_gone 10
}

@test "ucspitlsd 'H' without descriptors: exit 100, no TLS" {
  handoff_app
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/ucspitlsd" "$PY" "$T/app.py" bare
  run tagged timeout 20 "$PY" - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
assert s.recv(4) == b"go\r\n"
s.sendall(b"\x16\x03\x01\x00\x05hello")   # the start of a ClientHello: nobody answers it
try:
    print(repr(s.recv(100)))
except ConnectionResetError:
    print("b''")
PY
  echo "$output"
  assert_success
  assert_output "b''"
  wait_grep "invalid handoff from the application: 'H' needs exactly two descriptors" "$SERVER_LOG" 10
  wait_sessions_gone 10
}

#!/usr/bin/env bats
# proxyhdr.bats: proxy-header behind a real haproxy (send-proxy, send-proxy-v2,
# health checks), and stub senders writing bad headers straight to tcpserver.
# The clients connect from 127.0.0.2, haproxy from 127.0.0.1: the address
# proxy-header takes from the header differs from the balancer's.

load helpers/common
load helpers/proxy

HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

setup() {
  proxy_setup
  [ -x "$HAPROXY" ] || fail "haproxy is not installed (Debian package haproxy)"
  # A backend wrapper that records the addresses it was given, then runs the rest.
  BACKEND_ENV=$T/backend.env
  cat > "$T/record-env" <<'EOF'
#!/bin/bash
echo "PROTO=${PROTO-unset} TCPREMOTEIP=${TCPREMOTEIP-unset} TCPREMOTEPORT=${TCPREMOTEPORT-unset} TCPLOCALIP=${TCPLOCALIP-unset} TCPLOCALPORT=${TCPLOCALPORT-unset} TCPLOCALHOST=${TCPLOCALHOST-unset}" >> "$BACKEND_ENV"
exec "$@"
EOF
  chmod +x "$T/record-env"
  export BACKEND_ENV
  # The program after proxy-header in the stub tests: it marks that it ran,
  # records its environment, and keeps the first bytes it is sent.
  cat > "$T/marker" <<'EOF'
#!/bin/bash
echo ran >> "$BACKEND_ENV.ran"
"$(dirname "$0")/record-env" true
exec head -c "${MARKER_BYTES:-8}" > "$BACKEND_ENV.got"
EOF
  chmod +x "$T/marker"
}

teardown() { ust_teardown ; }

# free_port: a TCP port free on 127.0.0.1 just now (for haproxy's frontend).
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# haproxy_cmd COMMAND: a command on haproxy's stats socket; prints the answer.
haproxy_cmd() {
  "$PY" - "$T/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}

# start_haproxy SEND [BACKEND LINES...]: haproxy in the foreground, mode tcp,
# a frontend on a free loopback port (HPORT) to one server, the tcpserver on
# $PORT, with the server option SEND (send-proxy or send-proxy-v2 and any
# more). Extra lines go into the backend section. Ready when its stats
# socket answers (the frontend is bound before the stats socket).
start_haproxy() {
  local send=$1 try pid end line
  shift
  for try in 1 2 3; do
    HPORT=$(free_port)
    {
      echo "global"
      echo "  stats socket $T/haproxy.sock mode 600 level admin"
      echo "defaults"
      echo "  mode tcp"
      echo "  timeout connect 5s"
      echo "  timeout client 60s"
      echo "  timeout server 60s"
      echo "frontend fe"
      echo "  bind 127.0.0.1:$HPORT"
      echo "  default_backend be"
      echo "backend be"
      for line in "$@"; do echo "  $line"; done
      echo "  server s1 127.0.0.1:$PORT $send"
    } > "$T/haproxy.cfg"
    rm -f "$T/haproxy.sock"
    # not through `tagged`, a function: $! must be haproxy itself, for teardown's SIGTERM
    env UST_TAG="$UST_TAG" "$HB/closefds" "$HAPROXY" -db -f "$T/haproxy.cfg" >>"$T/haproxy.log" 2>&1 </dev/null &
    pid=$!
    SERVER_PIDS+=("$pid")
    end=$((SECONDS + 10))
    while [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
      haproxy_cmd "show info" 2>/dev/null | grep -q '^Name: HAProxy' && return 0
      sleep 0.05
    done
    kill "$pid" 2>/dev/null
  done
  echo "haproxy did not start:" >&2
  cat "$T/haproxy.log" >&2
  return 1
}

# via_haproxy 'python code': c is a smtptest.Client connected from 127.0.0.2
# to haproxy's frontend; CA is the test CA.
via_haproxy() {
  tagged timeout 30 "$PY" -c "
import socket, smtptest
from smtptest import until_tag, multiline
CA = '$CERTS/ca.pem'
c = smtptest.Client.__new__(smtptest.Client)
c.s = socket.create_connection(('127.0.0.1', $HPORT), timeout=10, source_address=('127.0.0.2', 0))
c.buf = b''
$1"
}

# stub 'python code': s is a socket to tcpserver ($PORT), v1(...) and v2(...)
# build headers; closed(s) says whether the server closed with nothing sent.
stub() {
  tagged timeout 30 "$PY" -c "
import socket, struct, time
SIG = b'\r\n\r\n\x00\r\nQUIT\n'
def v2(cmd, fam, body):
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack('!H', len(body)) + body
def a4(src, dst, sp, dp):
    return socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst) + struct.pack('!HH', sp, dp)
def a6(src, dst, sp, dp):
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack('!HH', sp, dp)
def closed(s):
    s.settimeout(15)
    try:
        return s.recv(1) == b''
    except ConnectionResetError:
        return True
s = socket.create_connection(('127.0.0.1', $PORT), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
$1"
}

# chain_server PROG...: tcpserver with the test certificate, FAKE_LOG and BACKEND_ENV, running PROG...
chain_server() {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" BACKEND_ENV="$BACKEND_ENV" -- "$@"
}

# rc_of FILE: waits for rc.sh's exit-code file, prints the code.
rc_of() {
  wait_file "$1" 20 && cat "$1"
}

# stub_server [proxy-header options]: tcpserver → rc.sh → proxy-header → the marker program.
stub_server() {
  start_server BACKEND_ENV="$BACKEND_ENV" MARKER_BYTES="${MARKER_BYTES:-8}" -- \
    "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/proxy-header" "$@" -- "$T/marker"
}

# refused WHAT: the session ended with exit 95, the log line says WHAT, the
# program after proxy-header never ran.
refused() {
  run rc_of "$T/rc"
  assert_output 95
  wait_grep "^proxy-header: fatal: 127\.0\.0\.1: .*$1" "$SERVER_LOG" 10
  wait_sessions_gone 10
  [ ! -e "$BACKEND_ENV.ran" ] || fail "the program after proxy-header ran"
}

SMTP_TRANSACTION='
assert c.reply().startswith("220")
r = c.cmd("EHLO client.test"); assert "STARTTLS" in r, r
assert c.cmd("STARTTLS").startswith("220")
print(c.starttls(CA))
c.cmd("EHLO client.test")
assert c.cmd("MAIL FROM:<a@client.test>").startswith("250")
assert c.cmd("RCPT TO:<b@server.test>").startswith("250")
assert c.cmd("DATA").startswith("354")
body = b"Subject: through haproxy\r\n\r\n" + bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n..dot\r\n"
c.send(body + b".\r\n")
r = c.reply(); assert r.startswith("250"), r
print(c.cmd("QUIT").strip())
log = open("@FAKE_LOG@", "rb").read()
assert body in log, "the body did not arrive byte-exact"
print("body ok")'

@test "proxyhdr: STARTTLS SMTP through haproxy send-proxy (v1): the real client in the logs and the backend's environment, the message byte-exact" {
  smtp_through send-proxy
}

@test "proxyhdr: STARTTLS SMTP through haproxy send-proxy-v2: the real client in the logs and the backend's environment, the message byte-exact" {
  smtp_through send-proxy-v2
}

smtp_through() {
  chain_server "$UST_BIN/proxy-header" -v 2 -a 127.0.0.1 -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/smtpd-starttls" -v 2 -- "$T/record-env" "$PY" "$SCRIPTS/fake-smtpd.py"
  start_haproxy "$1"
  run via_haproxy "${SMTP_TRANSACTION//@FAKE_LOG@/$FAKE_LOG}"
  echo "$output"
  assert_success
  assert_line "$TLS_VERSION"
  assert_line "body ok"
  wait_sessions_gone 10
  grep -E '^PROTO=TCP TCPREMOTEIP=127\.0\.0\.2 TCPREMOTEPORT=[0-9]+ TCPLOCALIP=127\.0\.0\.1 TCPLOCALPORT='"$HPORT"' TCPLOCALHOST=unset$' "$BACKEND_ENV"
  grep -E "^proxy-header: info: 127\.0\.0\.1: PROXY v$([ "$1" = send-proxy ] && echo 1 || echo 2) TCP4: client 127\.0\.0\.2 port [0-9]+, to 127\.0\.0\.1 port $HPORT$" "$SERVER_LOG"
  grep -E '^smtpd-starttls: info: 127\.0\.0\.2: ' "$SERVER_LOG"
  wait_grep '^tlsd-io: info: 127\.0\.0\.2: session ended: tls ' "$SERVER_LOG"
  ! grep -E '^(smtpd-starttls|tlsd-io): info: 127\.0\.0\.1:' "$SERVER_LOG"
}

@test "proxyhdr: STARTTLS IMAP through haproxy send-proxy-v2: the real client logged, a message fetched inside TLS byte-exact" {
  chain_server "$UST_BIN/proxy-header" -a 127.0.0.1 -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/imapd-starttls" -v 2 -- "$T/record-env" "$PY" "$SCRIPTS/fake-imapd.py"
  start_haproxy send-proxy-v2
  run via_haproxy '
c.line()
c.send(b"a STARTTLS\r\n"); assert until_tag(c, "a").startswith("a OK")
print(c.starttls(CA))
c.send(b"b LOGIN u p\r\n"); until_tag(c, "b")
c.send(b"c FETCH 1 BODY[]\r\n"); r = until_tag(c, "c")
want = b"Subject: fake\r\n\r\nline one\r\n.line two\r\n\x00\xff 8-bit\r\n"
assert r.encode("latin-1").startswith(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(want) + want + b")\r\n"), r
c.send(b"d LOGOUT\r\n"); until_tag(c, "d")
print("fetch ok")'
  echo "$output"
  assert_success
  assert_line "$TLS_VERSION"
  assert_line "fetch ok"
  wait_sessions_gone 10
  grep -q ' TCPREMOTEIP=127\.0\.0\.2 ' "$BACKEND_ENV"
  grep -qE '^imapd-starttls: info: 127\.0\.0\.2: ' "$SERVER_LOG"
  wait_grep '^tlsd-io: info: 127\.0\.0\.2: session ended: tls ' "$SERVER_LOG"
}

@test "proxyhdr: STLS POP3 through haproxy send-proxy: the real client logged, RETR inside TLS byte-exact" {
  chain_server "$UST_BIN/proxy-header" -a 127.0.0.1 -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/pop3d-starttls" -v 2 -- "$T/record-env" "$PY" "$SCRIPTS/fake-pop3d.py"
  start_haproxy send-proxy
  run via_haproxy '
c.line()
c.send("STLS\r\n"); assert c.line().startswith("+OK")
print(c.starttls(CA))
c.send("USER u\r\nPASS p\r\nRETR 1\r\n")
c.line(); c.line()
r = multiline(c)
assert r == "+OK message follows\r\nSubject: fake\r\n\r\nline one\r\n..dot-stuffed line\r\n\xe9\xff 8-bit\r\n.\r\n", r
c.send("QUIT\r\n"); c.line()
print("retr ok")'
  echo "$output"
  assert_success
  assert_line "retr ok"
  wait_sessions_gone 10
  grep -q ' TCPREMOTEIP=127\.0\.0\.2 ' "$BACKEND_ENV"
  grep -qE '^pop3d-starttls: info: 127\.0\.0\.2: ' "$SERVER_LOG"
  wait_grep '^tlsd-io: info: 127\.0\.0\.2: session ended: tls ' "$SERVER_LOG"
}

@test "proxyhdr: implicit TLS (tlsd) through haproxy send-proxy-v2: the application sees the client, 200 KB echoed byte-exact" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" BACKEND_ENV="$BACKEND_ENV" -- \
    "$UST_BIN/proxy-header" -a 127.0.0.1 -- "$UST_BIN/tlsd" -- "$T/record-env" head -c 200000
  start_haproxy send-proxy-v2
  run tagged timeout 30 "$PY" -c "
import socket, ssl, os
data = os.urandom(200000)
s = socket.create_connection(('127.0.0.1', $HPORT), timeout=10, source_address=('127.0.0.2', 0))
t = ssl.create_default_context(cafile='$CERTS/ca.pem').wrap_socket(s, server_hostname='localhost')
t.sendall(data)
got = b''
while len(got) < len(data):
    d = t.recv(65536)
    if not d: break
    got += d
assert got == data, 'echo differs: %d bytes of %d' % (len(got), len(data))
print(t.version(), 'echo ok')"
  echo "$output"
  assert_success
  assert_output "$TLS_VERSION echo ok"
  wait_sessions_gone 10
  grep -q '^PROTO=TCP TCPREMOTEIP=127\.0\.0\.2 ' "$BACKEND_ENV"
  wait_grep '^tlsd-io: info: 127\.0\.0\.2: session ended: tls ' "$SERVER_LOG"
}

@test "proxyhdr: haproxy health checks (send-proxy-v2, tcp-check through the whole chain) send v2 LOCAL: the balancer's address kept, the server UP" {
  chain_server "$UST_BIN/proxy-header" -v 2 -a 127.0.0.1 -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -- "$T/record-env" "$PY" "$SCRIPTS/fake-smtpd.py"
  start_haproxy "send-proxy-v2 check check-send-proxy inter 200 rise 2 fall 1" \
    "option tcp-check" "tcp-check expect rstring ^220" "tcp-check send QUIT\\r\\n" "tcp-check expect rstring ^221"
  wait_grep '^proxy-header: info: 127\.0\.0\.1: PROXY v2 LOCAL or no address family: the balancer.s own connection, addresses unchanged$' "$SERVER_LOG" 20
  # rise 2: two checks passed in a row, the last L7OK
  local end=$((SECONDS + 20)) stat=
  while [ $SECONDS -lt $end ]; do
    stat=$(haproxy_cmd "show stat" | grep '^be,s1,')
    [[ "$stat" == *",UP,"*"L7OK"* ]] && break
    sleep 0.1
  done
  echo "$stat"
  [[ "$stat" == *",UP,"*"L7OK"* ]]
  grep -qE '^PROTO=TCP TCPREMOTEIP=127\.0\.0\.1 TCPREMOTEPORT=[0-9]+ TCPLOCALIP=127\.0\.0\.1 TCPLOCALPORT='"$PORT"' TCPLOCALHOST=0$' "$BACKEND_ENV"
  ! grep -q 'fatal' "$SERVER_LOG"
}

@test "proxyhdr: haproxy send-proxy (v1) health checks carry the check connection's own addresses (TCP4): accepted, the server UP" {
  chain_server "$UST_BIN/proxy-header" -v 2 -a 127.0.0.1 -- "$T/record-env" "$PY" "$SCRIPTS/fake-smtpd.py"
  start_haproxy "send-proxy check check-send-proxy inter 200 rise 2 fall 1" \
    "option tcp-check" "tcp-check expect rstring ^220" "tcp-check send QUIT\\r\\n" "tcp-check expect rstring ^221"
  local end=$((SECONDS + 20)) stat=
  while [ $SECONDS -lt $end ]; do
    stat=$(haproxy_cmd "show stat" | grep '^be,s1,')
    [[ "$stat" == *",UP,"*"L7OK"* ]] && break
    sleep 0.1
  done
  echo "$stat"
  [[ "$stat" == *",UP,"*"L7OK"* ]]
  grep -qE '^proxy-header: info: 127\.0\.0\.1: PROXY v1 TCP4: client 127\.0\.0\.1 port [0-9]+, to 127\.0\.0\.1 port '"$PORT"'$' "$SERVER_LOG"
  ! grep -q 'fatal' "$SERVER_LOG"
}

# ---------------------------------------------------------------- stub senders

@test "proxyhdr: bytes glued to a v1 header in one write reach the program intact (a real SMTP backend sees EHLO first)" {
  start_server FAKE_LOG="$FAKE_LOG" BACKEND_ENV="$BACKEND_ENV" -- "$UST_BIN/proxy-header" -a 127.0.0.1 -- "$T/record-env" "$PY" "$SCRIPTS/fake-smtpd.py"
  run stub '
s.sendall(b"PROXY TCP4 192.0.2.7 198.51.100.1 40001 25\r\nEHLO x.test\r\nQUIT\r\n")
f = s.makefile("rb")
print(f.readline().decode().strip())
while True:
    l = f.readline()
    if not l or l.startswith(b"221"): break
print(l.decode().strip())'
  echo "$output"
  assert_success
  assert_line --index 0 --partial "220 "
  assert_line --index 1 --partial "221 "
  wait_sessions_gone 10
  run head -n1 "$FAKE_LOG"
  assert_output $'EHLO x.test\r'
  grep -qx 'PROTO=TCP TCPREMOTEIP=192.0.2.7 TCPREMOTEPORT=40001 TCPLOCALIP=198.51.100.1 TCPLOCALPORT=25 TCPLOCALHOST=unset' "$BACKEND_ENV"
}

@test "proxyhdr: bytes glued to a v2 header (with TLVs) in one write reach the program intact" {
  MARKER_BYTES=11 stub_server -a 127.0.0.1
  run stub '
tlv = b"\x01" + struct.pack("!H", 4) + b"smtp" + b"\x04" + struct.pack("!H", 3) + b"\0\0\0"
s.sendall(v2(1, 0x11, a4("192.0.2.8", "198.51.100.1", 40002, 587) + tlv) + b"EHLO x\r\n\x00\xff\r")
print(closed(s))'
  assert_success
  run rc_of "$T/rc"
  assert_output 0
  [ "$(od -An -c "$BACKEND_ENV.got" | tr -s ' ')" = "$(printf 'EHLO x\r\n\0\377\r' | od -An -c | tr -s ' ')" ]
  grep -qx 'PROTO=TCP TCPREMOTEIP=192.0.2.8 TCPREMOTEPORT=40002 TCPLOCALIP=198.51.100.1 TCPLOCALPORT=587 TCPLOCALHOST=unset' "$BACKEND_ENV"
}

@test "proxyhdr: a v2 header written one byte per segment is read whole; the next byte is the program's" {
  MARKER_BYTES=4 stub_server -a 127.0.0.1
  run stub '
for b in v2(1, 0x11, a4("192.0.2.9", "198.51.100.1", 40003, 25)) + b"QUIT":
    s.send(bytes([b])); time.sleep(0.01)
print(closed(s))'
  assert_success
  run rc_of "$T/rc"
  assert_output 0
  run cat "$BACKEND_ENV.got"
  assert_output QUIT
  grep -q 'TCPREMOTEIP=192.0.2.9 TCPREMOTEPORT=40003 ' "$BACKEND_ENV"
}

@test "proxyhdr: IPv6 in v1 (TCP6) and v2 (AF_INET6): canonical addresses in TCPREMOTEIP and TCPLOCALIP, PROTO=TCP" {
  MARKER_BYTES=1 stub_server -a 127.0.0.1
  run stub '
s.sendall(b"PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::25 40004 25\r\nx"); print(closed(s))
s = socket.create_connection(("127.0.0.1", '"$PORT"'))
s.sendall(v2(1, 0x21, a6("2001:db8::2", "2001:db8::25", 40005, 993)) + b"x"); print(closed(s))'
  assert_success
  wait_sessions_gone 10
  grep -qx 'PROTO=TCP TCPREMOTEIP=2001:db8::1 TCPREMOTEPORT=40004 TCPLOCALIP=2001:db8::25 TCPLOCALPORT=25 TCPLOCALHOST=unset' "$BACKEND_ENV"
  grep -qx 'PROTO=TCP TCPREMOTEIP=2001:db8::2 TCPREMOTEPORT=40005 TCPLOCALIP=2001:db8::25 TCPLOCALPORT=993 TCPLOCALHOST=unset' "$BACKEND_ENV"
}

@test "proxyhdr: v1 UNKNOWN and v2 LOCAL keep the listener's variables" {
  MARKER_BYTES=1 stub_server -a 127.0.0.1
  run stub '
s.sendall(b"PROXY UNKNOWN\r\nx"); print(closed(s))
s = socket.create_connection(("127.0.0.1", '"$PORT"'))
s.sendall(v2(0, 0x11, a4("192.0.2.10", "198.51.100.1", 1, 2)) + b"x"); print(closed(s))'
  assert_success
  wait_sessions_gone 10
  [ "$(grep -c "^PROTO=TCP TCPREMOTEIP=127\.0\.0\.1 TCPREMOTEPORT=[0-9]* TCPLOCALIP=127\.0\.0\.1 TCPLOCALPORT=$PORT TCPLOCALHOST=0\$" "$BACKEND_ENV")" = 2 ]
}

@test "proxyhdr: a client that sends no header (wrong signature) is refused at its first bytes: exit 95, nothing passed on" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(b"EHLO x.test\r\n"); print(closed(s))'
  assert_output True
  refused "bad PROXY header: not a PROXY header"
}

@test "proxyhdr: a v2 signature with a wrong byte is refused" {
  stub_server -a 127.0.0.1
  run stub 'h = bytearray(v2(1, 0x11, a4("192.0.2.1", "198.51.100.1", 1, 2))); h[9] = 0x58; s.sendall(bytes(h)); print(closed(s))'
  assert_output True
  refused "bad PROXY header: not a PROXY header \(wrong v2 signature\)"
}

@test "proxyhdr: a truncated v1 header (EOF before its CRLF) is refused" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.1 4"); s.shutdown(socket.SHUT_WR); print(closed(s))'
  assert_output True
  refused "bad PROXY header: truncated: the connection ended after 35 bytes"
}

@test "proxyhdr: a truncated v2 header (EOF inside its addresses) is refused" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(v2(1, 0x11, a4("192.0.2.1", "198.51.100.1", 1, 2))[:20]); s.shutdown(socket.SHUT_WR); print(closed(s))'
  assert_output True
  refused "bad PROXY header: truncated: the connection ended after 20 bytes"
}

@test "proxyhdr: a v1 header over 107 bytes is refused" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n"); print(closed(s))'
  assert_output True
  refused "bad PROXY header: v1: longer than 107 bytes"
}

@test "proxyhdr: a malformed v1 header (two spaces, leading zero in a port) is refused" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.1 01 25\r\n"); print(closed(s))'
  assert_output True
  refused "bad PROXY header: v1: a port is not a number"
}

@test "proxyhdr: a v2 length over the bound is refused before its body is read" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(SIG + b"\x21\x11" + struct.pack("!H", 1025)); print(closed(s))'
  assert_output True
  refused "bad PROXY header: v2: the length is over 1024 bytes"
}

@test "proxyhdr: v2 AF_UNIX and UDP are refused" {
  stub_server -a 127.0.0.1
  run stub 's.sendall(v2(1, 0x12, a4("192.0.2.1", "198.51.100.1", 1, 2))); print(closed(s))'
  assert_output True
  refused "bad PROXY header: v2: a UDP connection"
}

@test "proxyhdr: a header from an address not listed in -a: refused, nothing read, exit 95" {
  stub_server -a 127.0.0.9,::1
  run stub 's.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r\n"); print(closed(s))'
  assert_output True
  refused "connection refused: not a trusted balancer"
}

@test "proxyhdr: -p passes a connection from elsewhere through unchanged: nothing read, the first byte intact, the listener's variables" {
  MARKER_BYTES=39 stub_server -p -v 2 -a 127.0.0.9
  run stub 's.sendall(b"PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r\n"); print(closed(s))'
  assert_success
  run rc_of "$T/rc"
  assert_output 0
  run cat "$BACKEND_ENV.got"
  assert_output $'PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r'
  grep -q '^PROTO=TCP TCPREMOTEIP=127\.0\.0\.1 ' "$BACKEND_ENV"
  grep -q '^proxy-header: info: 127\.0\.0\.1: not a trusted balancer: passed through unchanged (-p)$' "$SERVER_LOG"
}

@test "proxyhdr: a header that never completes ends at the -t deadline (exit 95), even from a sender trickling valid bytes" {
  stub_server -a 127.0.0.1 -t 1000
  run stub '
t0 = time.monotonic()
s.sendall(b"PROXY TCP4 1")
assert closed(s)
t = time.monotonic() - t0
# -t 1000: not before it, and well within 8 s on a busy machine
assert 0.9 <= t < 8, t
print("closed after %.1f s" % t)'
  echo "$output"
  assert_success
  refused "no complete PROXY header within 1000 ms \(12 bytes read\)"
  rm -f "$T/rc"
  : > "$SERVER_LOG"
  # the deadline is for the whole header: a byte every 100 ms (4 s for the header) gains nothing
  run stub '
t0 = time.monotonic()
try:
    for b in b"PROXY TCP4 192.0.2.1 198.51.100.1 40000 25\r\n":
        s.send(bytes([b])); time.sleep(0.1)
except (BrokenPipeError, ConnectionResetError):
    pass
t = time.monotonic() - t0
# closed at the deadline (1 s), long before the 4.5 s the whole header takes
assert t < 3.5, t
print("closed after %.1f s" % t)'
  echo "$output"
  assert_success
  refused "no complete PROXY header within 1000 ms"
}

@test "proxyhdr: usage: -a is mandatory, a bad address is named, TCPREMOTEIP must be set; exit 100" {
  run "$UST_BIN/proxy-header" -- true
  [ "$status" -eq 100 ]
  [[ "$output" == *"-a is mandatory"* ]]
  run "$UST_BIN/proxy-header" -a 10.0.0.1,10.0.0.256 -- true
  [ "$status" -eq 100 ]
  [[ "$output" == *"not an IPv4 or IPv6 address: 10.0.0.256"* ]]
  run env -u TCPREMOTEIP "$UST_BIN/proxy-header" -a 10.0.0.1 -- true
  [ "$status" -eq 100 ]
  [[ "$output" == *"TCPREMOTEIP is not set"* ]]
}

@test "proxyhdr: the parser's unit tests" {
  run "$UST_HELPERS/unit-proxyhdr"
  echo "$output"
  assert_success
  assert_output "all proxyhdr unit tests passed"
}

@test "proxyhdr: examples/haproxy/haproxy.cfg is a valid haproxy configuration with PROXY v2 and whole-chain checks" {
  run "$HAPROXY" -c -f "$UST_SRC/examples/haproxy/haproxy.cfg"
  echo "$output"
  assert_success
  grep -q 'send-proxy-v2 check check-send-proxy' "$UST_SRC/examples/haproxy/haproxy.cfg"
  grep -q 'proxy-header -a' "$UST_SRC/examples/haproxy/README.md"
}

@test "proxyhdr: the balancer's facts all go: ucspi-tcp6's TCP6* variables are removed; an IPv4-mapped client is written as IPv4" {
  # over a pipe (proxy-header reads a non-socket with read()), with the environment ucspi-tcp6 would set
  run bash -c 'printf "PROXY TCP6 ::ffff:192.0.2.7 2001:db8::25 40000 25\r\nrest" | env -i PATH="$PATH" PROTO=TCP6 TCPREMOTEIP=127.0.0.1 \
    TCP6REMOTEIP=::ffff:127.0.0.1 TCP6REMOTEPORT=4444 TCP6REMOTEHOST=lb.example TCP6REMOTEINFO=x TCP6LOCALIP=::1 TCP6LOCALPORT=25 \
    TCP6LOCALHOST=mx.example TCP6INTERFACE=lo "$0" -a 127.0.0.1 -- sh -c "env | sort; cat"' "$UST_BIN/proxy-header"
  echo "$output"
  assert_success
  assert_line PROTO=TCP
  assert_line TCPREMOTEIP=192.0.2.7
  assert_line TCPREMOTEPORT=40000
  assert_line TCPLOCALIP=2001:db8::25
  refute_output --partial TCP6
  assert_output --partial rest
}

#!/usr/bin/env bats
# hostile.bats: slow and hostile clients against smtpd-starttls (and the
# IMAP and POP3 proxies where it is cheap): byte-drip commands, drips slower
# than the idle deadline, overlong lines, lines without LF then EOF, NUL
# bytes, a NOOP keep-alive loop (100 commands without mail), huge pipelined bursts. Time and memory must
# stay bounded: the proxy's VmRSS (from /proc) stays under RSS_BOUND_KB,
# 16 MiB in plain builds (the proxy queues at most 256 KiB per side beyond
# its two 64 KiB input buffers), 64 MiB under sanitizers (shadow memory).
# The backend is fault-smtpd.py without a fault: it records every byte it
# receives in $FAKE_LOG.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
  FAKE_EVENTS=$T/backend.events
  : > "$FAKE_EVENTS"
  if [ "${UST_SANITIZERS:-0}" = 1 ]; then RSS_BOUND_KB=65536; else RSS_BOUND_KB=16384; fi
}

teardown() {
  ust_teardown
}

# hostile_server PROXY BACKEND [proxy options]: ucspitlsd + PROXY -v 1 in front of BACKEND.
hostile_server() {
  local proxy=$1 backend=$2
  shift 2
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    FAKE_LOG="$FAKE_LOG" FAKE_EVENTS="$FAKE_EVENTS" \
    -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/$proxy" -v 1 "$@" -- "$PY" "$SCRIPTS/$backend"
}

# hc 'python code': c = a faultclient.C on $PORT; rss() is the proxy's VmRSS
# in kB (the proxy child: the smtpd/imapd/pop3d-starttls process whose parent
# is the backend); BOUND is RSS_BOUND_KB.
hc() {
  tagged timeout 120 "$PY" -c "
import sys, os, time, ssl, select, socket
import faultclient, ustls
CA = '$CERTS/ca.pem'
LOG = '$FAKE_LOG'
BOUND = $RSS_BOUND_KB
def proxy_pid():
    for d in os.listdir('/proc'):
        if not d.isdigit(): continue
        try:
            comm = open('/proc/%s/comm' % d).read().strip()
            env = open('/proc/%s/environ' % d, 'rb').read()
        except OSError:
            continue
        if comm.endswith('d-starttls') and b'UST_TAG=$UST_TAG\0' in env:
            ppid = int(open('/proc/%s/status' % d).read().split('PPid:')[1].split()[0])
            if open('/proc/%d/comm' % ppid).read().strip() != 'tcpserver':
                return int(d)
def rss():
    pid = proxy_pid()
    for l in open('/proc/%d/status' % pid):
        if l.startswith('VmRSS:'):
            return int(l.split()[1])
c = faultclient.C($PORT, CA)
$1"
}

# ------------------------------------------------------------------ drips

@test "hostile: a command dripped one byte per 50 ms (within -t 1000) still works, in cleartext and in TLS" {
  hostile_server smtpd-starttls fault-smtpd.py -t 1000
  run hc '
def drip(s):
    for b in s.encode():
        c.send(bytes([b])); time.sleep(0.05)
c.reply()
drip("EHLO dripper\r\n"); r = c.reply(); assert r.startswith("250-") and "STARTTLS" in r, r
c.starttls()
drip("EHLO dripper\r\n"); r = c.reply(); assert r.startswith("250-"), r
drip("NOOP\r\n"); print(c.reply().rstrip())
print(c.cmd("QUIT").rstrip())'
  echo "$output"
  assert_success
  assert_output "$(printf '250 2.0.0 ok\n221 2.0.0 bye')"
  cmp "$FAKE_LOG" <(printf 'EHLO dripper\r\nRSET\r\nEHLO dripper\r\nNOOP\r\nQUIT\r\n')
}

@test "hostile: a drip slower than -t: 421 at the idle deadline, the partial command never reaches the backend (exit 99)" {
  hostile_server smtpd-starttls fault-smtpd.py -t 1000
  run hc '
c.reply()
t0 = time.monotonic()
got = b""
try:
    for b in b"EHLO slow\r\n":
        c.send(bytes([b]))
        r, _, _ = select.select([c.sock], [], [], 1.6)   # slower than -t
        if r:
            break
    got, _ = c.eof(5)
except OSError:
    pass
took = time.monotonic() - t0
print(got.decode().rstrip())
assert 0.9 <= took <= 3, took'
  echo "$output"
  assert_success
  assert_output "421 4.4.2 Idle timeout, closing connection"
  [ ! -s "$FAKE_LOG" ]
  wait_sessions_gone 5
  grep -q 'session ended: .*exit code 99' "$SERVER_LOG"
}

@test "hostile: a command line must arrive whole within -t: a drip of bytes each within -t still gets 421 at -t after its first byte (exit 99)" {
  hostile_server smtpd-starttls fault-smtpd.py -t 1000
  run hc '
c.reply()
c.cmd("NOOP")                                  # a whole command first: the clock is per line
t0 = time.monotonic()
got = b""
for b in b"NOOP\r\n":
    c.send(bytes([b]))                          # 300 ms apart: each byte well within -t
    if select.select([c.sock], [], [], 0.3)[0]:
        break
got, _ = c.eof(5)
took = time.monotonic() - t0
print(got.decode().rstrip())
assert 0.9 <= took <= 1.6, took'
  echo "$output"
  assert_success
  assert_output "421 4.4.2 Idle timeout, closing connection"
  cmp "$FAKE_LOG" <(printf 'NOOP\r\n')
  wait_sessions_gone 5
  grep -q 'command line still incomplete' "$SERVER_LOG"
  grep -q 'session ended: .*exit code 99' "$SERVER_LOG"
}

@test "hostile: an overlong line dripped: the rest is discarded, but its end must also come within -t (exit 99)" {
  hostile_server smtpd-starttls fault-smtpd.py -t 1000 -l 512
  run hc '
c.reply()
c.send(b"NOOP " + b"x" * 600)                    # over -l: refused at once, the rest is discarded
print(c.line().rstrip())
t0 = time.monotonic()
got = b""
while not select.select([c.sock], [], [], 0.3)[0]:
    c.send(b"x")                                 # the overlong line goes on, 300 ms apart
    assert time.monotonic() - t0 < 5, "no deadline"
got, _ = c.eof(5)
print(got.decode().rstrip())'
  echo "$output"
  assert_success
  assert_output "$(printf '500 5.5.2 Syntax error: line too long\n421 4.4.2 Idle timeout, closing connection')"
  [ ! -s "$FAKE_LOG" ]
  wait_sessions_gone 5
  grep -q 'session ended: .*exit code 99' "$SERVER_LOG"
}

# ------------------------------------------------------------------ bad lines

@test "hostile: an overlong line gets 500 5.5.2 and is discarded whole; the session goes on" {
  hostile_server smtpd-starttls fault-smtpd.py
  run hc '
c.reply()
c.send("MAIL FROM:<" + "A" * 100000 + ">\r\n")
print(c.reply().rstrip())
print(c.cmd("NOOP").rstrip())
assert rss() < BOUND, rss()
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output "$(printf '500 5.5.2 Syntax error: line too long\n250 2.0.0 ok')"
  cmp "$FAKE_LOG" <(printf 'NOOP\r\nQUIT\r\n')
  wait_grep 'refused an overlong command line' "$SERVER_LOG"
}

@test "hostile: -l 512: a 512-byte command passes, a 513-byte one is refused" {
  hostile_server smtpd-starttls fault-smtpd.py -l 512
  run hc '
ok = "NOOP " + "x" * (512 - 7) + "\r\n"; assert len(ok) == 512
bad = "NOOP " + "x" * (513 - 7) + "\r\n"; assert len(bad) == 513
c.reply()
c.send(ok); print(c.reply().rstrip())
c.send(bad); print(c.reply().rstrip())
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output "$(printf '250 2.0.0 ok\n500 5.5.2 Syntax error: line too long')"
  cmp "$FAKE_LOG" <(printf 'NOOP %s\r\nQUIT\r\n' "$(printf 'x%.0s' $(seq 505))")
}

@test "hostile: a line without LF, then EOF: never executed, the session ends at once" {
  hostile_server smtpd-starttls fault-smtpd.py
  run hc '
c.reply(); c.cmd("EHLO x")
c.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>")
c.sock.shutdown(socket.SHUT_WR)
got, took = c.eof(5)
print(got.decode().rstrip())
assert took < 2, took'
  echo "$output"
  assert_success
  assert_output "250 2.0.0 ok"
  cmp "$FAKE_LOG" <(printf 'EHLO x\r\nMAIL FROM:<a@b>\r\n')
  wait_sessions_gone 3
}

@test "hostile: NUL bytes: the whole line is refused (500), never truncated or forwarded" {
  hostile_server smtpd-starttls fault-smtpd.py
  run hc '
c.reply()
c.send(b"MAIL FROM:<a@b>\x00 RCPT TO:<evil@x>\r\n"); print(c.reply().rstrip())
c.send(b"\x00\r\n"); print(c.reply().rstrip())
c.send(b"NOOP\r\n\x00\x00\x00\x00\r\n"); print(c.reply().rstrip()); print(c.reply().rstrip())
c.cmd("QUIT")'
  echo "$output"
  assert_success
  assert_output "$(printf '500 5.5.2 Syntax error: NUL byte in command\n500 5.5.2 Syntax error: NUL byte in command\n250 2.0.0 ok\n500 5.5.2 Syntax error: NUL byte in command')"
  cmp "$FAKE_LOG" <(printf 'NOOP\r\nQUIT\r\n')
}

@test "hostile: pop3d-starttls: an overlong line gets -ERR, a NUL line too; imapd-starttls: * BAD for both" {
  hostile_server pop3d-starttls fake-pop3d.py
  run hc '
c.line()
c.send("USER " + "u" * 300 + "\r\n"); print(c.line().rstrip())
c.send(b"US\x00ER x\r\n"); print(c.line().rstrip())
c.send("QUIT\r\n"); print(c.line().rstrip())'
  echo "$output"
  assert_success
  assert_output "$(printf -- '-ERR line too long\n-ERR NUL byte in command\n+OK bye')"
  cmp "$FAKE_LOG" <(printf 'QUIT\r\n')
  FAKE_LOG=$T/imap.bytes; : > "$FAKE_LOG"
  hostile_server imapd-starttls fake-imapd.py
  run hc '
c.line()
c.send("a LOGIN " + "u" * 10000 + " p\r\n"); print(c.line().rstrip())
c.send(b"b LOG\x00IN u p\r\n"); print(c.line().rstrip())
c.send("c LOGOUT\r\n"); print(c.line().rstrip())'
  echo "$output"
  assert_success
  # the tag is readable in both: the answer is tagged (the client waits for its tag)
  assert_output "$(printf -- 'a BAD line too long\nb BAD NUL byte in command\n* BYE fake logging out')"
  cmp "$FAKE_LOG" <(printf 'c LOGOUT\r\n')
}

# ------------------------------------------------------------------ keep-alive and bursts

@test "hostile: a NOOP keep-alive loop: 100 commands without mail are answered, the next gets 421 4.7.0; memory flat" {
  # Each command restarts the idle deadline: without a count, a loop of
  # NOOPs (or RSETs, or refused lines) would hold the session and its
  # backend for ever. MAIL starts the count again.
  hostile_server smtpd-starttls fault-smtpd.py -t 1000
  run hc '
c.reply(); c.cmd("EHLO x")                      # 1
for i in range(90):                              # 91
    assert c.cmd("NOOP") == "250 2.0.0 ok\r\n"
first = rss()
assert c.cmd("MAIL FROM:<a@b>").startswith("250")   # back to 0
for i in range(50):                              # 50
    assert c.cmd("RSET") == "250 2.0.0 ok\r\n"
c.send(b"NO\0OP\r\n"); assert c.line().startswith("500 ")   # 51: refused lines count too
for i in range(49):                              # 100
    assert c.cmd("NOOP") == "250 2.0.0 ok\r\n"
last = rss()
print(c.cmd("NOOP").rstrip())                    # 101
got, _ = c.eof(5)
assert got == b"", got
assert last < BOUND and last - first < 1024, (first, last)'
  echo "$output"
  assert_success
  assert_output "421 4.7.0 Too many commands without mail, closing connection"
  [ "$(grep -c '^NOOP' "$FAKE_LOG")" = 139 ]
  wait_sessions_gone 5
  grep -q 'too many commands without a mail transaction' "$SERVER_LOG"
}

@test "hostile: a huge pipelined burst (1000000 RCPTs, 21 MB) the client does not read: the proxy stops reading it, memory bounded, then every reply arrives in order" {
  # RCPT: recipients are part of a mail transaction (NOOPs would meet the
  # limit on commands without mail).
  hostile_server smtpd-starttls fault-smtpd.py
  run hc '
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<a@b>")
N = 1000000
burst = b"".join(b"RCPT TO:<%d@x>\r\n" % i for i in range(N))
s = c.sock
sent = 0
while sent < len(burst):
    _, w, _ = select.select([], [s], [], 1.0)
    if not w:
        break                                   # the proxy stopped reading us
    try:
        sent += s.send(burst[sent:sent + 65536])
    except BlockingIOError:
        pass
blocked = rss()
print("blocked after %d of %d bytes, proxy rss %d kB" % (sent, len(burst), blocked), file=sys.stderr)
assert sent < len(burst), "the proxy read the whole burst without our reading any reply"
assert blocked < BOUND, blocked
# now read every reply while sending the rest
got = b""
want = b"250 2.0.0 ok\r\n" * N
while len(got) < len(want):
    r, w, _ = select.select([s], [s] if sent < len(burst) else [], [], 10)
    assert r or w, "stalled at %d replies" % (len(got) // 14)
    if w:
        try: sent += s.send(burst[sent:sent + 65536])
        except BlockingIOError: pass
    if r:
        d = s.recv(1 << 20)
        assert d, "EOF after %d replies" % (len(got) // 14)
        got += d
assert got == want
assert rss() < BOUND
s.setblocking(True)
s.sendall(b"QUIT\r\n")
print(c.line().rstrip())'
  echo "$output"
  assert_success
  assert_output --partial "221 2.0.0 bye"
  [ "$(grep -c '^RCPT TO:' "$FAKE_LOG")" -eq 1000000 ]
  wait_sessions_gone 5
}

#!/usr/bin/env bats
# lifetime.bats: whoever ends a session, every process of it ends within a
# documented bound (DESIGN.md §5 rule 12, doc/guarantees.md "Deadlines"):
# the backend gets EOF, then -g to end by itself, then SIGTERM, then 5 s
# before SIGKILL. The backends here do not end at EOF: the helper
# stubborn-backend.py sleeps there, GNU mailutils' imap4d spins there.
# -g is 1 s so that a test measures the bound, not the default's 30 s;
# the waits allow ten times what they measure, and without the bound the
# processes would stay for ever.

load helpers/common
load helpers/proxy

setup() { proxy_setup ; }
teardown() { ust_teardown ; }

STUBBORN_CMD=("$PY" "$SCRIPTS/stubborn-backend.py")

serve_stubborn() {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" STUBBORN="${STUBBORN:-}" -- "$@"
}

# imap 'python code': c is connected; CA is the test CA.
imap() {
  tagged timeout 30 "$PY" -c "
import smtptest
from smtptest import until_tag
CA = '$CERTS/ca.pem'
c = smtptest.Client($PORT)
$1"
}

@test "lifetime: the proxy ends the session (idle timeout): a backend that stays after EOF gets SIGTERM after -g" {
  serve_stubborn "$UST_BIN/ucspitlsd" -g 1000 -- "$UST_BIN/imapd-starttls" -t 1000 -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'print(c.line().strip()); print(c.line().strip()); print(c.closed())'
  echo "$output"
  assert_success
  assert_line --index 1 --partial "* BYE Idle timeout"
  wait_sessions_gone 10
  grep -q "the backend did not end after the session: SIGTERM sent" "$SERVER_LOG"
  grep -qx eof "$FAKE_LOG"
}

@test "lifetime: the proxy ends the session (an injection after STARTTLS): the backend gets SIGTERM after -g" {
  serve_stubborn "$UST_BIN/ucspitlsd" -- "$UST_BIN/imapd-starttls" -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'c.line(); c.send(b"a STARTTLS\r\nb NOOP\r\n"); print(c.line().strip()); print(c.closed())'
  echo "$output"
  assert_success
  assert_line --index 0 --partial "* BYE"
  wait_sessions_gone 10
  grep -q "SIGTERM sent" "$SERVER_LOG"
}

@test "lifetime: the client leaves in cleartext: the backend has -g, then SIGTERM; one that ignores SIGTERM gets SIGKILL 5 s later" {
  serve_stubborn "$UST_BIN/ucspitlsd" -- "$UST_BIN/imapd-starttls" -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'c.line(); c.send(b"a NOOP\r\n"); print(until_tag(c, "a").strip())'
  assert_success
  wait_sessions_gone 10
  grep -q "the backend did not end within -g after the client left" "$SERVER_LOG"
  # the client ended the session: no idle timeout, no fault
  grep 'session ended' "$SERVER_LOG" | grep -vq 'exit code'
  : > "$SERVER_LOG"
  STUBBORN=term serve_stubborn "$UST_BIN/ucspitlsd" -- "$UST_BIN/imapd-starttls" -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'c.line()'
  assert_success
  # the proxy's own line is the signal: -g, then 5 s after SIGTERM
  wait_grep "the backend did not end after SIGTERM: SIGKILL sent" "$SERVER_LOG" 30
  wait_sessions_gone 10
}

@test "lifetime: a handshake that fails after STARTTLS: the backend has -g, then SIGTERM" {
  serve_stubborn "$UST_BIN/ucspitlsd" -- "$UST_BIN/imapd-starttls" -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'c.line(); c.send(b"a STARTTLS\r\n"); print(until_tag(c, "a").strip()); c.send(b"\x16\x03\x01\x00\xff\x01\x00\x00\xfb\x03"); c.s.close()'
  assert_success
  assert_line "a OK Begin TLS negotiation now"
  wait_sessions_gone 10
  wait_grep "SIGTERM sent" "$SERVER_LOG" 10
}

@test "lifetime: the direct handoff (under ucspitlsd and with -C): once the engine ends, the controller's watch gives the backend -g, then SIGTERM" {
  for own in 0 1; do
    : > "$SERVER_LOG"
    if [ $own = 1 ]; then
      serve_stubborn "$UST_BIN/imapd-starttls" -C -v 2 -g 1000 -- "${STUBBORN_CMD[@]}"
    else
      serve_stubborn "$UST_BIN/ucspitlsd" -g 1000 -- "$UST_BIN/imapd-starttls" -v 2 -- "${STUBBORN_CMD[@]}"
    fi
    run imap '
c.line(); c.send(b"a CAPABILITY\r\n"); until_tag(c, "a")
c.send(b"b STARTTLS\r\n"); print(until_tag(c, "b").strip())
c.starttls(CA)
c.send(b"c NOOP\r\n"); print(until_tag(c, "c").strip())'
    echo "$output"
    assert_success
    assert_line "c OK done"
    wait_sessions_gone 10
    grep -q "direct handoff" "$SERVER_LOG"
    grep -q "the application did not end after its session: SIGTERM sent" "$SERVER_LOG"
  done
}

@test "lifetime: a NOOP loop inside TLS after a direct handoff (no proxy counts it) ends by the engine's -L; engine and backend end" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_MODE=notls \
    -- "$UST_BIN/ucspitlsd" -t 0 -L 2000 -g 1000 -- "$UST_BIN/smtpd-starttls" -v 2 -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run tagged timeout 30 "$PY" -c "
import smtptest, time
c = smtptest.Client($PORT)
c.reply(); c.cmd('EHLO a.test'); assert c.cmd('STARTTLS').startswith('220')
c.starttls('$CERTS/ca.pem')
c.cmd('EHLO a.test')
n, t0 = 0, time.monotonic()
try:
    while time.monotonic() - t0 < 20:
        assert c.cmd('NOOP').startswith('250'); n += 1
        time.sleep(0.05)
    print('still open after 20 s')
except (EOFError, OSError) as e:
    print('closed after %d NOOPs, %.1f s' % (n, time.monotonic() - t0))
"
  echo "$output"
  assert_success
  assert_output --partial "closed after"
  wait_grep 'smtpd-starttls: info: 127\.0\.0\.1: session handed off: tls ' "$SERVER_LOG" 10
  wait_grep 'tlsd-io: info: 127\.0\.0\.1: session ended: tls .*: the session lifetime -L ran out;.*exit code 99$' "$SERVER_LOG" 10
  wait_sessions_gone 10
}

@test "lifetime: tlsd: once the client leaves, the application has -g, then SIGTERM" {
  serve_stubborn "$UST_BIN/tlsd" -g 1000 -- "${STUBBORN_CMD[@]}"
  run imap 'c.starttls(CA); print(c.line().strip()); c.send(b"a NOOP\r\n"); print(until_tag(c, "a").strip())'
  echo "$output"
  assert_success
  assert_line "a OK done"
  wait_sessions_gone 10
  grep -q "the application did not end after its session: SIGTERM sent" "$SERVER_LOG"
}

@test "lifetime: a backend that ends by itself within -g is left alone (no signal, no warning)" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" \
    -- "$UST_BIN/ucspitlsd" -g 1000 -- "$UST_BIN/imapd-starttls" -g 1000 -- "$PY" "$SCRIPTS/fake-imapd.py"
  run imap 'c.line(); c.send(b"a STARTTLS\r\n"); until_tag(c, "a"); c.starttls(CA); c.send(b"b LOGOUT\r\n"); print(until_tag(c, "b").strip())'
  echo "$output"
  assert_success
  wait_sessions_gone 10
  run grep -c "SIGTERM\|SIGKILL" "$SERVER_LOG"
  assert_output 0
}

@test "lifetime: GNU mailutils imap4d, which spins on a closed stdin: aborted handshakes leave no imap4d behind" {
  [ -x /usr/sbin/imap4d ] || skip "mailutils-imap4d not installed"
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    -- "$UST_BIN/ucspitlsd" -g 1000 -- "$UST_BIN/imapd-starttls" -g 1000 -- /usr/sbin/imap4d --inetd
  for i in 1 2 3; do
    run imap 'print(c.line().strip()); c.send(b"A STARTTLS\r\n"); print(until_tag(c, "A").strip()); c.send(b"\x16\x03\x01\x00\xff\x01\x00\x00\xfb\x03"); c.s.close()'
    echo "$output"
    assert_success
    assert_line --index 1 "A OK Begin TLS negotiation now"
  done
  # and a client that reads the greeting and leaves
  run imap 'print(c.line().strip())'
  assert_success
  wait_sessions_gone 10
  [ -z "$(pids_named imap4d)" ]
}

@test "lifetime: under a descriptor limit of 64 the watch keeps only its own two descriptors and ends nothing early" {
  serve_stubborn sh -c 'ulimit -n 64; exec "$@"' sh "$UST_BIN/ucspitlsd" -g 1000 -- "$UST_BIN/imapd-starttls" -- "${STUBBORN_CMD[@]}"
  run imap '
import os, time
def watch_fds():
    tag = ("UST_TAG=" + os.environ["UST_TAG"]).encode()
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open("/proc/%s/comm" % pid).read().strip() == "ust-watch" and tag in open("/proc/%s/environ" % pid, "rb").read().split(b"\0"):
                out.append(len(os.listdir("/proc/%s/fd" % pid)))
        except OSError:
            pass
    return out
c.line(); c.send(b"a STARTTLS\r\n"); until_tag(c, "a"); c.starttls(CA)
for i in range(4):
    c.send(b"n%d NOOP\r\n" % i); print(until_tag(c, "n%d" % i).strip()); time.sleep(0.5)
print("watch fds", watch_fds())'
  echo "$output"
  assert_success
  assert_line "n3 OK done"
  # 0, 1 and 2, and its two pidfds
  assert_line "watch fds [5]"
  run grep -c "SIGTERM sent" "$SERVER_LOG"
  assert_output 0
}

@test "lifetime: a backend that reaps its children before it exits (the proxy is one) does not wait -g for the proxy, nor the proxy for it" {
  # -g stays at its 30 s default: without the fix both wait for the other until then
  for d in "" -d; do
    start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_MODE=reap \
      -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" $d -- "$PY" "$SCRIPTS/fake-smtpd.py"
    # in cleartext, then through STARTTLS (with -d the proxy stays in the path)
    run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT); s.ehlo(); print(s.quit()[0])
s = smtplib.SMTP('127.0.0.1', $PORT); s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem')); s.ehlo(); print(s.quit()[0])"
    echo "$output"
    assert_success
    assert_output $'221\n221'
    wait_sessions_gone 10
    run grep -c "SIGTERM\|SIGKILL" "$SERVER_LOG"
    assert_output 0
  done
}

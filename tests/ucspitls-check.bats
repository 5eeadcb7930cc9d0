#!/usr/bin/env bats
# ucspitls-check.bats: ucspitls-check (issue 15) in application mode, under
# tcpserver, between a real TLS client and the application: our own stack
# passes every rule, and each fixture of tests/helpers/bad-ucspitls-app.py
# reproduces one known handoff bug and fails (or warns) exactly its rule.

load helpers/common
load helpers/check

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  REPORT=$T/report
  BAD=$SCRIPTS/bad-ucspitls-app.py
}

APP_RULES="command nonblock read-past unread cleartext-after after-handoff eof-wait fds env"

teardown() {
  ust_teardown
}

# check_server [ucspitls-check options...] -- prog...: tcpserver + ucspitls-check -o $REPORT.
check_server() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  start_server "${EC[@]}" FAKE_LOG="$T/fake.log" -- "$UST_BIN/ucspitls-check" -v 2 -o "$REPORT" "${opts[@]}" -- "$@"
}

# client [check-client options...]: the SMTP client, through STARTTLS.
client() {
  run tagged timeout 60 env PYTHONPATH="$SCRIPTS" "$PY" "$SCRIPTS/check-client.py" --port "$PORT" --ca "$CERTS/ca.pem" "$@"
}


@test "ucspitls-check: smtpd-starttls passes every rule and the mail goes through" {
  check_server -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  client --mail
  assert_success
  assert_line "TLS $TLS_VERSION"
  assert_line --regexp '^< 250 2.0.0 message accepted'
  assert_line --regexp '^< 221'
  report
  grep -q 'hello' "$T/fake.log"
  all_pass $APP_RULES
  grep -qx 'SUMMARY: 9 passed, 0 warned, 0 failed' "$REPORT"
  wait_sessions_gone 10
}

@test "ucspitls-check: imapd-starttls passes every rule (imaplib STARTTLS, LOGIN, FETCH)" {
  check_server -- "$UST_BIN/imapd-starttls" -- "$PY" "$SCRIPTS/fake-imapd.py"
  run tagged timeout 60 "$PY" -c "
import imaplib, ssl
m = imaplib.IMAP4('127.0.0.1', $PORT)
m.starttls(ssl_context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
m.login('user', 'pass'); m.select('INBOX')
typ, data = m.fetch('1', '(BODY[])')
assert data[0][1].startswith(b'Subject: fake'), data
m.logout(); print('ok')"
  assert_success
  assert_output ok
  report
  all_pass $APP_RULES
  grep -q '^PASS read-past: prog had read exactly through its STARTTLS line (client line 2, ' "$REPORT"
  grep -qx 'SUMMARY: 9 passed, 0 warned, 0 failed' "$REPORT"
  wait_sessions_gone 10
}

@test "ucspitls-check: pop3d-starttls passes every rule (poplib STLS, USER/PASS, RETR)" {
  check_server -- "$UST_BIN/pop3d-starttls" -- "$PY" "$SCRIPTS/fake-pop3d.py"
  run tagged timeout 60 "$PY" -c "
import poplib, ssl
p = poplib.POP3('127.0.0.1', $PORT)
p.stls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
p.user('u'); p.pass_('p')
resp, lines, octets = p.retr(1)
assert lines[0] == b'Subject: fake', lines
p.quit(); print('ok')"
  assert_success
  assert_output ok
  report
  all_pass $APP_RULES
  grep -qx 'SUMMARY: 9 passed, 0 warned, 0 failed' "$REPORT"
  wait_sessions_gone 10
}

@test "ucspitls-check: starttls-echo (libucspitls) passes every rule" {
  check_server -- "$UST_EXAMPLES/starttls-echo"
  run tagged timeout 60 "$PY" "$SCRIPTS/echo-client.py" "$PORT" "$CERTS/ca.pem"
  assert_success
  assert_line --regexp '^tls: TLSv1'
  report
  all_pass $APP_RULES
  grep -qx 'SUMMARY: 9 passed, 0 warned, 0 failed' "$REPORT"
}

@test "ucspitls-check: a real STARTTLS client (openssl s_client -starttls smtp) completes through it" {
  check_server -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run s_client -starttls smtp <<<$'EHLO x\r\nQUIT\r'
  assert_success
  assert_output --partial "Protocol version: $TLS_VERSION"
  assert_output --partial "221"
  report
  others_pass
}

@test "ucspitls-check: the well-behaved fixture passes every rule" {
  check_server -- "$PY" "$BAD" good
  client
  assert_success
  assert_line "< 221 bye"
  report
  others_pass
  grep -q '^SUMMARY: 9 passed, 0 warned, 0 failed$' "$REPORT"
}

@test "ucspitls-check: O_NONBLOCK left on fd 0 before 'Y' fails nonblock, and only nonblock" {
  check_server -- "$PY" "$BAD" nonblock
  client
  assert_success
  assert_line "TLS $TLS_VERSION"
  report
  [ "$(verdict nonblock)" = FAIL ]
  grep -q '^FAIL nonblock: O_NONBLOCK was set' "$REPORT"
  others_pass nonblock
  grep -q ', 1 failed$' "$REPORT"
}

@test "ucspitls-check: reading past the STARTTLS line fails read-past and names the bytes" {
  check_server -- "$PY" "$BAD" readahead
  client --pipeline
  assert_success
  report
  [ "$(verdict read-past)" = FAIL ]
  grep -qF 'FAIL read-past: prog had read 27 bytes past the end of its STARTTLS line (client line 2, ending at offset 28)' "$REPORT"
  grep -qF '"MAIL FROM:<x@example.org>\r\n"' "$REPORT"
  others_pass read-past
}

@test "ucspitls-check: a pipelined command that a correct application leaves unread is a warning, not a failure" {
  check_server -- "$PY" "$BAD" good
  client --pipeline
  assert_success
  report
  [ "$(verdict read-past)" = PASS ]
  [ "$(verdict unread)" = WARN ]
  grep -qF 'WARN unread: 27 client bytes were still unread' "$REPORT"
  others_pass unread
}

@test "ucspitls-check: cleartext written after 'Y' fails cleartext-after (and the client never sees it)" {
  check_server -- "$PY" "$BAD" cleartext
  client
  assert_success
  assert_line "< 221 bye"
  refute_output --partial oops
  report
  [ "$(verdict cleartext-after)" = FAIL ]
  grep -qF 'FAIL cleartext-after: prog wrote 10 cleartext bytes to the network after the command: "250 oops\r\n"' "$REPORT"
  others_pass cleartext-after
}

@test "ucspitls-check: reading the info block until EOF fails eof-wait" {
  check_server -t 1500 -- "$PY" "$BAD" eofwait
  client
  assert_success
  report
  [ "$(verdict eof-wait)" = FAIL ]
  grep -q 'FAIL eof-wait: .* it went on right after we closed SSLCTLFD' "$REPORT"
  others_pass eof-wait
}

@test "ucspitls-check: libucspitls's reader takes a block with bare entries and one at the size limit" {
  for shape in bare max; do
    : > "$REPORT"
    check_server -b $shape -- "$HB/ucspitls-app"
    run starttls_client "STARTTLS Y" "INFO SSL_PROTOCOL" QUIT
    assert_success
    assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
    report
    [ "$(verdict infoblock)" = PASS ] || fail "$shape: $(cat "$REPORT")"
    [ "$(verdict eof-wait)" = PASS ]
  done
  grep -q 'PASS infoblock: block at the size limit (4096 bytes)' "$REPORT"
}

@test "ucspitls-check: ucspitls-app's s6-style reader (until EOF) fails eof-wait, its RAW start after NB fails nonblock" {
  check_server -t 1500 -- "$HB/ucspitls-app"
  run starttls_client "STARTTLS S6" "ECHO inside" QUIT
  assert_success
  assert_line "< ECHO inside"
  report
  [ "$(verdict eof-wait)" = FAIL ]
  [ "$(verdict nonblock)" = PASS ]
  : > "$REPORT"
  run starttls_client NB "STARTTLS RAW" "ECHO inside" QUIT
  assert_success
  assert_line "< ECHO inside"
  report
  [ "$(verdict nonblock)" = FAIL ]
  grep -q "^PASS command: .* sent 'y'" "$REPORT"
  grep -q "^WARN eof-wait: not observed: prog sent 'y'" "$REPORT"
}

@test "ucspitls-check: a decline is reported as such, and the cleartext session goes on" {
  check_server -- "$PY" "$BAD" decline
  client
  assert_failure 2
  assert_line "< 454 TLS not available"
  assert_line "< 221 bye"
  report
  grep -q '^PASS decline: prog closed SSLCTLFD at .* then went on in cleartext' "$REPORT"
  grep -q '^WARN nonblock: not observed: prog declined TLS' "$REPORT"
  ! grep -q '^FAIL' "$REPORT"
}

@test "ucspitls-check: an extra descriptor in the application is reported by fds" {
  check_server -- "$PY" "$BAD" leakfd
  client
  assert_success
  report
  [ "$(verdict fds)" = WARN ]
  grep -qE '^WARN fds: pid [0-9]+ held 1 descriptor\(s\) .*: [0-9]+=/dev/null$' "$REPORT"
  others_pass fds
}

@test "ucspitls-check: -Z shows the TLS variables reaching prog; the default strips them as ucspitlsd does" {
  check_server -Z -- "$PY" "$BAD" good
  client
  assert_success
  report
  grep -q '^WARN env: TLS configuration variables visible to prog (given by -Z): pid [0-9]*: CERTFILE KEYFILE' "$REPORT"
}

@test "ucspitls-check: exit codes: 1 when a rule failed, 0 when none did, 100 for usage" {
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/ucspitls-check" -o "$REPORT" -- "$PY" "$BAD" nonblock
  client
  assert_success
  wait_file "$T/rc" 30
  [ "$(cat "$T/rc")" = 1 ]
  rm -f "$T/rc"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/ucspitls-check" -o "$REPORT" -- "$PY" "$BAD" good
  client
  assert_success
  wait_file "$T/rc" 30
  [ "$(cat "$T/rc")" = 0 ]
  run "$UST_BIN/ucspitls-check"
  assert_failure 100
  run "$UST_BIN/ucspitls-check" -b nonsense -- true
  assert_failure 100
  run "$UST_BIN/ucspitls-check" -- true </dev/null
  assert_failure 100
  assert_output --partial "must be the client's socket"
}

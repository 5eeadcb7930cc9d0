#!/usr/bin/env bats
# mailutils.bats: imapd-starttls and pop3d-starttls in front of real servers,
# GNU mailutils' imap4d --inetd and pop3d --inetd, logging in over TLS as a
# test user and fetching a known message byte-exact. Needs root: the servers
# authenticate against the system's users, so the test creates one
# (usttest) and its mailbox in /var/mail.

load helpers/common

USER_NAME=usttest
USER_PASS=Secret-123

setup_file() {
  [ "$(id -u)" = 0 ] || return 0
  id "$USER_NAME" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$USER_NAME"
  echo "$USER_NAME:$USER_PASS" | chpasswd
}

setup() {
  [ "$(id -u)" = 0 ] || skip "needs root: creates a system user for imap4d/pop3d"
  [ -x /usr/sbin/imap4d ] && [ -x /usr/sbin/pop3d ] || skip "mailutils-imap4d/pop3d not installed"
  ust_setup
  export PYTHONPATH=$SCRIPTS
  # a fresh mailbox with one known message (the servers rewrite it)
  printf 'From sender@example.org Mon Nov 23 00:00:00 2026\nSubject: known\nFrom: sender@example.org\n\nknown body line\n.dot line\n8-bit \xc3\xa9\n\n' > "/var/mail/$USER_NAME"
  chown "$USER_NAME":mail "/var/mail/$USER_NAME"
  chmod 660 "/var/mail/$USER_NAME"
}

teardown() {
  [ "$(id -u)" = 0 ] || return 0
  ust_teardown
}

serve() {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/ucspitlsd" -- "$@"
}

@test "mailutils: imaplib STARTTLS, LOGIN and FETCH through imapd-starttls in front of imap4d" {
  serve "$UST_BIN/imapd-starttls" -T -- /usr/sbin/imap4d --inetd
  run tagged timeout 30 "$PY" -c "
import imaplib, ssl
m = imaplib.IMAP4('127.0.0.1', $PORT)
assert 'STARTTLS' in m.capabilities and 'LOGINDISABLED' in m.capabilities, m.capabilities
m.starttls(ssl_context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
assert 'STARTTLS' not in m.capabilities and 'LOGINDISABLED' not in m.capabilities
m.login('$USER_NAME', '$USER_PASS')
m.select('INBOX')
typ, data = m.fetch('1', '(BODY[TEXT])')
print(repr(data[0][1]))
assert data[0][1] == b'known body line\r\n.dot line\r\n8-bit \xc3\xa9\r\n', data
m.logout()"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_grep "session ended: tls $TLS_VERSION" "$SERVER_LOG" 10
}

@test "mailutils: curl --ssl-reqd imap:// lists the mailbox and fetches the message from imap4d" {
  serve "$UST_BIN/imapd-starttls" -- /usr/sbin/imap4d --inetd
  # AUTH=PLAIN: imap4d offers SASL mechanisms that need a password database of their own
  run tagged timeout 30 curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" --login-options AUTH=PLAIN -u "$USER_NAME:$USER_PASS" "imap://localhost:$PORT/INBOX;UID=1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Subject: known"*"known body line"* ]]
}

@test "mailutils: poplib STLS, USER/PASS and RETR through pop3d-starttls in front of pop3d" {
  serve "$UST_BIN/pop3d-starttls" -T -- /usr/sbin/pop3d --inetd
  run tagged timeout 30 "$PY" -c "
import poplib, ssl
p = poplib.POP3('127.0.0.1', $PORT)
caps = p.capa(); assert 'STLS' in caps, caps
p.stls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
assert 'STLS' not in p.capa()
p.user('$USER_NAME'); p.pass_('$USER_PASS')
resp, lines, octets = p.retr(1)
body = lines[lines.index(b'') + 1:]
print(body)
assert body[:3] == [b'known body line', b'.dot line', b'8-bit \xc3\xa9'], body
p.quit()"
  echo "$output"
  [ "$status" -eq 0 ]
}

# A man in the middle hides LOGIN/USER/PASS behind blanks the proxy does not
# split on but the server does (GNU mailutils splits at any run of blanks).
@test "mailutils: LOGIN with HT or doubled blanks never reaches imap4d in cleartext (-T), and commits the session to cleartext without -T" {
  serve "$UST_BIN/imapd-starttls" -T -- /usr/sbin/imap4d --inetd
  run tagged timeout 30 "$PY" -c "
import smtptest
from smtptest import until_tag
c = smtptest.Client($PORT)
c.line()
c.send(b'a LOGIN\t$USER_NAME\t$USER_PASS\r\n'); print(until_tag(c, 'a').strip())
c.send(b'b LOGIN  $USER_NAME $USER_PASS\r\n'); print(until_tag(c, 'b').strip())
c.send(b'c STARTTLS\r\n'); print(until_tag(c, 'c').strip())
c.starttls('$CERTS/ca.pem')
c.send(b'd LOGIN $USER_NAME $USER_PASS\r\n'); print(until_tag(c, 'd').strip().split('\n')[-1])
c.send(b'e LOGOUT\r\n'); until_tag(c, 'e')"
  echo "$output"
  assert_success
  assert_line --index 0 "a NO [PRIVACYREQUIRED] Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
  assert_line --index 1 "b NO [PRIVACYREQUIRED] LOGIN is disabled until STARTTLS"
  assert_line --index 2 "c OK Begin TLS negotiation now"
  assert_line --index 3 --regexp "^d OK"
  serve "$UST_BIN/imapd-starttls" -- /usr/sbin/imap4d --inetd
  run tagged timeout 30 "$PY" -c "
import smtptest
from smtptest import until_tag
c = smtptest.Client($PORT)
c.line()
c.send(b'a LOGIN\t$USER_NAME\t$USER_PASS\r\n'); print(until_tag(c, 'a').strip().split('\n')[-1])
c.send(b'c STARTTLS\r\n'); print(until_tag(c, 'c').strip())
c.send(b'e LOGOUT\r\n'); until_tag(c, 'e')"
  echo "$output"
  assert_success
  assert_line --index 1 "c NO TLS not available"
}

@test "mailutils: USER and PASS with HT never reach pop3d in cleartext (-T), and commit the session to cleartext without -T" {
  serve "$UST_BIN/pop3d-starttls" -T -- /usr/sbin/pop3d --inetd
  run tagged timeout 30 "$PY" -c "
import smtptest
c = smtptest.Client($PORT)
c.line()
c.send(b'USER\t$USER_NAME\r\nPASS\t$USER_PASS\r\n'); print(c.line().strip()); print(c.line().strip())
c.send(b'STLS\r\n'); print(c.line().strip())
c.starttls('$CERTS/ca.pem')
c.send(b'USER $USER_NAME\r\nPASS $USER_PASS\r\n'); print(c.line().strip()); print(c.line().strip())
c.send(b'QUIT\r\n'); c.line()"
  echo "$output"
  assert_success
  assert_line --index 0 "-ERR Must issue STLS first"
  assert_line --index 1 "-ERR Must issue STLS first"
  assert_line --index 2 --partial "+OK Begin TLS"
  assert_line --index 4 --regexp "^\+OK"
  serve "$UST_BIN/pop3d-starttls" -- /usr/sbin/pop3d --inetd
  run tagged timeout 30 "$PY" -c "
import smtptest
c = smtptest.Client($PORT)
c.line()
c.send(b'USER\t$USER_NAME\r\n'); print(c.line().strip())
c.send(b'STLS\r\n'); print(c.line().strip())
c.send(b'QUIT\r\n'); c.line()"
  echo "$output"
  assert_success
  assert_line --index 1 "-ERR TLS not available"
}

# client_listener PROG: PROG (a client-side proxy) under tcpclient and
# ucspitlsc as a local listener in front of the server on $PORT; PORT is
# then the listener's.
client_listener() {
  local sport=$PORT
  start_server CAFILE="$CERTS/ca.pem" -- tcpclient -RHl0 127.0.0.1 "$sport" "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/$1" -v 2
}

@test "mailutils: a plaintext-only imaplib through imapc-starttls to imapd-starttls -T in front of imap4d: LOGIN and FETCH inside TLS, byte-exact" {
  serve "$UST_BIN/imapd-starttls" -T -- /usr/sbin/imap4d --inetd
  client_listener imapc-starttls
  run tagged timeout 30 "$PY" -c "
import imaplib
m = imaplib.IMAP4('127.0.0.1', $PORT)
print(m.welcome, m.capabilities)
assert 'STARTTLS' not in m.capabilities and 'LOGINDISABLED' not in m.capabilities, m.capabilities
m.login('$USER_NAME', '$USER_PASS')
m.select('INBOX')
typ, data = m.fetch('1', '(BODY[TEXT])')
print(repr(data[0][1]))
assert data[0][1] == b'known body line\r\n.dot line\r\n8-bit \xc3\xa9\r\n', data
m.logout()"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_grep "imapc-starttls: info: 127.0.0.1: session ended: tls $TLS_VERSION .*\(server name localhost verified\)" "$SERVER_LOG" 10
  wait_grep "imapd-starttls: info: 127.0.0.1: session (ended|handed off): tls" "$SERVER_LOG" 10
}

@test "mailutils: a plaintext-only poplib through pop3c-starttls to pop3d-starttls -T in front of pop3d: USER/PASS and RETR inside TLS, byte-exact" {
  serve "$UST_BIN/pop3d-starttls" -T -- /usr/sbin/pop3d --inetd
  client_listener pop3c-starttls
  run tagged timeout 30 "$PY" -c "
import poplib
p = poplib.POP3('127.0.0.1', $PORT)
print(p.getwelcome())
caps = p.capa(); print(caps); assert 'STLS' not in caps, caps
p.user('$USER_NAME'); p.pass_('$USER_PASS')
resp, lines, octets = p.retr(1)
body = lines[lines.index(b'') + 1:]
print(body)
assert body[:3] == [b'known body line', b'.dot line', b'8-bit \xc3\xa9'], body
p.quit()"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_grep "pop3c-starttls: info: 127.0.0.1: session ended: tls $TLS_VERSION" "$SERVER_LOG" 10
  wait_grep "pop3d-starttls: info: 127.0.0.1: session (ended|handed off): tls" "$SERVER_LOG" 10
}

#!/usr/bin/env bats
# deploy.bats: the deployment examples under examples/ (tcpserver scripts for
# every port, s6 and runit services, systemd units, the ucspitlsc client) work
# as shipped, and make install / uninstall put and remove every file.

load helpers/common

setup() {
  ust_setup
  export PYTHONPATH=$SCRIPTS
  EX=$UST_SRC/examples
}

teardown() {
  ust_teardown
}

# run_example SCRIPT [NAME=VALUE...]: the example in the background on a free
# port with the test certificate, our programs and a fake backend unless
# BACKEND is given; waits until it listens; sets PORT.
run_example() {
  local script=$1
  shift
  PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env IP=127.0.0.1 PORT="$PORT" UST_BIN="$UST_BIN" CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    TLS_UID= TLS_GID= RUN_AS= EXAMPLES="$EX" UST_TAG="$UST_TAG" "$@" "$script" 2>>"$SERVER_LOG" </dev/null &
  SERVER_PIDS+=("$!")
  for _ in $(seq 1 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2).close()" 2>/dev/null && return 0
    sleep 0.05
  done
  cat "$SERVER_LOG" >&2
  return 1
}

fake() { echo "$PY $SCRIPTS/fake-$1.py" ; }

@test "examples/tcpserver/smtp-25: opportunistic STARTTLS in front of an SMTP server" {
  run_example "$EX/tcpserver/smtp-25" BACKEND="$(fake smtpd)"
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
s.ehlo(); assert s.has_extn('starttls')
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
s.ehlo(); s.quit()
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
assert s.mail('a@b')[0] == 250   # port 25: a client may stay in cleartext
s.quit(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "examples/tcpserver/submission-587: STARTTLS required before MAIL" {
  run_example "$EX/tcpserver/submission-587" BACKEND="$(fake smtpd)"
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
s.ehlo(); code, _ = s.mail('a@b'); assert code == 530, code
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
s.ehlo(); code, _ = s.mail('a@b'); assert code == 250, code
s.quit(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "examples/tcpserver/imap-143 and pop3-110: STARTTLS/STLS required before login" {
  run_example "$EX/tcpserver/imap-143" BACKEND="$(fake imapd)"
  run tagged timeout 30 "$PY" -c "
import imaplib, ssl
m = imaplib.IMAP4('127.0.0.1', $PORT)
assert 'LOGINDISABLED' in m.capabilities and 'STARTTLS' in m.capabilities
m.starttls(ssl_context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
m.login('u', 'p'); m.logout(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
  run_example "$EX/tcpserver/pop3-110" BACKEND="$(fake pop3d)"
  run tagged timeout 30 "$PY" -c "
import poplib, ssl
p = poplib.POP3('127.0.0.1', $PORT)
try:
    p.user('u'); raise SystemExit('USER accepted before STLS')
except poplib.error_proto:
    pass
p.stls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
p.user('u'); p.pass_('p'); p.quit(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "examples/tcpserver/smtps-465, imaps-993, pop3s-995: implicit TLS from the first byte" {
  for spec in smtps-465:smtpd:220 imaps-993:imapd:'* OK' pop3s-995:pop3d:+OK; do
    IFS=: read -r script backend greeting <<<"$spec"
    run_example "$EX/tcpserver/$script" BACKEND="$(fake "$backend")"
    run tagged timeout 30 "$PY" -c "
import socket, ssl
s = ssl.create_default_context(cafile='$CERTS/ca.pem').wrap_socket(socket.create_connection(('127.0.0.1', $PORT)), server_hostname='localhost')
print(s.recv(100).decode(), s.version())"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "$greeting"*"TLSv1."* ]]
    # TLS_CIPHERS=strict, the default of the required-TLS scripts: no CBC suite
    run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" -brief \
      -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA </dev/null
    echo "$output"
    [ "$status" -ne 0 ]
  done
}

@test "examples: RUN_AS runs the proxy and the server as that user, the engine keeps to TLS_UID" {
  [ "$(id -u)" = 0 ] || skip "needs root"
  # a backend that says who it runs as; in a directory nobody can reach
  pub=$(mktemp -d /tmp/ust-deploy.XXXXXX)
  chmod 755 "$pub"
  printf '#!/bin/bash\necho "220 server runs as $(id -un)"\nread l\necho "221 bye"\n' > "$pub/whoami-smtpd"
  chmod 755 "$pub/whoami-smtpd"
  run_example "$EX/tcpserver/submission-587" RUN_AS=nobody TLS_UID="$(id -u mail)" TLS_GID="$(id -g mail)" BACKEND="$pub/whoami-smtpd"
  run tagged timeout 30 "$PY" -c "
import socket
s = socket.create_connection(('127.0.0.1', $PORT), timeout=10)
print(s.recv(100).decode().strip())"
  rm -rf "$pub"
  echo "$output"
  [ "$output" = "220 server runs as nobody" ]
}

@test "examples/s6 and examples/runit: the run scripts start a working service" {
  run_example "$EX/s6/smtpd-starttls/run" BACKEND="$(fake smtpd)"
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem')); s.quit(); print('ok')"
  [ "$status" -eq 0 ]
  run_example "$EX/runit/smtpd-starttls/run" BACKEND="$(fake smtpd)"
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
assert s.mail('a@b')[0] == 530   # the runit example is the submission port
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem')); s.quit(); print('ok')"
  [ "$status" -eq 0 ]
  bash -n "$EX/s6/smtpd-starttls/log/run" && bash -n "$EX/runit/smtpd-starttls/log/run"
}

@test "examples/systemd: the socket-activated units pass systemd-analyze verify (and a broken one does not)" {
  command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
  mkdir -p "$T/units"
  cp "$EX/systemd/smtpd-starttls.socket" "$T/units/"
  # an instance, as Accept=yes makes them: only instances get their commands checked
  sed "s|/usr/local/bin/|$UST_BIN/|g" "$EX/systemd/smtpd-starttls@.service" > "$T/units/smtpd-starttls@.service"
  cp "$T/units/smtpd-starttls@.service" "$T/units/smtpd-starttls@0.service"
  grep -q '^Accept=yes' "$T/units/smtpd-starttls.socket"
  grep -q '^StandardInput=socket' "$T/units/smtpd-starttls@0.service"
  run systemd-analyze verify --man=no "$T/units/smtpd-starttls.socket" "$T/units/smtpd-starttls@.service"
  echo "$output"
  [ "$status" -eq 0 ]
  run systemd-analyze verify --man=no "$T/units/smtpd-starttls@0.service"
  echo "$output"
  [ "$status" -eq 0 ]
  sed -i "s|/usr/bin/env|/nonexistent/env|" "$T/units/smtpd-starttls@0.service"
  run systemd-analyze verify --man=no "$T/units/smtpd-starttls@0.service"
  [ "$status" -ne 0 ]
}

@test "examples/client: an SMTP client under ucspitlsc sends a message over STARTTLS" {
  FAKE_LOG=$T/backend.bytes
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" \
    -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  printf 'Subject: from the client example\n\n.dotted line\nlast line\n' > "$T/msg"
  run tagged timeout 30 tcpclient -R -H 127.0.0.1 "$PORT" env CAFILE="$CERTS/ca.pem" "$UST_BIN/ucspitlsc" -k localhost -- \
    "$PY" "$EX/client/smtp-starttls-client.py" a@example.org b@example.org < "$T/msg"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"smtp-starttls-client: TLS TLSv1."*"250 2.0.0 message accepted"* ]]
  grep -q '^\.\.dotted line' "$FAKE_LOG"
}

@test "make install DESTDIR=... puts programs, library, headers, man pages and examples in place; make uninstall removes them" {
  build=$(dirname "$UST_BIN")
  root=$T/root
  run make -s -C "$build" install DESTDIR="$root" prefix=/usr bindir=/usr/bin libdir=/usr/lib includedir=/usr/include \
    mandir=/usr/share/man docdir=/usr/share/doc/ucspi-starttls
  echo "$output"
  [ "$status" -eq 0 ]
  for p in tlsd-io tlsc-io tlsd tlsc ucspitlsd ucspitlsc smtpd-starttls imapd-starttls pop3d-starttls; do
    [ -x "$root/usr/bin/$p" ]
    [ -f "$root/usr/share/man/man1/$p.1" ]
  done
  [ -f "$root/usr/lib/libucspitls.a" ] && [ -f "$root/usr/include/ucspitls.h" ] && [ -f "$root/usr/share/man/man3/ucspitls.3" ]
  [ -x "$root/usr/share/doc/ucspi-starttls/examples/tcpserver/smtp-25" ]
  [ -f "$root/usr/share/doc/ucspi-starttls/overview.md" ]
  # the installed controller finds the installed engine next to itself
  "$root/usr/bin/ucspitlsd" 2>&1 | grep -q 'usage: ucspitlsd' || true
  run make -s -C "$build" uninstall DESTDIR="$root" prefix=/usr bindir=/usr/bin libdir=/usr/lib includedir=/usr/include \
    mandir=/usr/share/man docdir=/usr/share/doc/ucspi-starttls
  [ "$status" -eq 0 ]
  run find "$root" -type f
  echo "$output"
  [ -z "$output" ]
}

@test "examples/client/mua-listener: a cleartext mail program on the local port reaches a STARTTLS-only server inside TLS" {
  FAKE_LOG=$T/backend.bytes
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" \
    -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -T -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run_example "$EX/client/mua-listener" REMOTE=localhost REMOTE_IP=127.0.0.1 REMOTE_PORT="$PORT" CAFILE="$CERTS/ca.pem"
  run tagged timeout 30 "$PY" -c "
import smtplib
s = smtplib.SMTP('127.0.0.1', $PORT)
s.ehlo(); assert not s.has_extn('starttls'), s.esmtp_features
s.sendmail('a@example.org', ['b@example.org'], b'Subject: from the listener\r\n\r\n.dotted line\r\n')
s.quit()"
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q '^\.\.dotted line' "$FAKE_LOG"
  wait_grep "smtpc-starttls: info: 127.0.0.1: session ended: tls .*\(server name localhost verified\)" "$SERVER_LOG" 10
}

@test "examples/client/plain-sender.py under smtpc-starttls: delivered inside TLS (exit 0); against a server without STARTTLS, 421 and exit 111" {
  FAKE_LOG=$T/backend.bytes
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" \
    -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  printf 'Subject: from the sender example\n\n.dotted line\nlast line\n' > "$T/msg"
  run tagged "$HB/closefds" timeout 30 tcpclient -R -H 127.0.0.1 "$PORT" env CAFILE="$CERTS/ca.pem" "$UST_BIN/ucspitlsc" -k localhost -- \
    "$UST_BIN/smtpc-starttls" -- "$PY" "$EX/client/plain-sender.py" a@example.org b@example.org < "$T/msg"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"250 2.0.0 message accepted"* ]]
  grep -q '^\.\.dotted line' "$FAKE_LOG"
  # a server that offers no STARTTLS (no controller, so no TLS) is never given the message
  : > "$FAKE_LOG"
  start_server FAKE_LOG="$FAKE_LOG" FAKE_MODE=notls -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run tagged "$HB/closefds" timeout 30 tcpclient -R -H 127.0.0.1 "$PORT" env CAFILE="$CERTS/ca.pem" "$UST_BIN/ucspitlsc" -k localhost -- \
    "$UST_BIN/smtpc-starttls" -- "$PY" "$EX/client/plain-sender.py" a@example.org b@example.org < "$T/msg"
  echo "$output"
  [ "$status" -eq 111 ]
  [[ "$output" == *"421 4.7.0 TLS to the server is required"* ]]
  ! grep -q "MAIL FROM" "$FAKE_LOG"
}

#!/usr/bin/env bats
# ucspitls.bats: the UCSPI-TLS controllers ucspitlsd and ucspitlsc (DESIGN.md
# §3) with libucspitls applications: tests/helpers/ucspitls-app.c under
# tcpserver + ucspitlsd, driven by tests/helpers/starttls-client.py (python
# ssl) or by tests/helpers/ucspitls-client.c under tcpclient + ucspitlsc.
# Every command byte, both start paths, declining, O_NONBLOCK, deadlines,
# the info block, the environment, descriptor leaks and leftover processes.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  APP=$HB/ucspitls-app
  APPLOG=$T/app.log
}

teardown() {
  ust_teardown
}

# serve_app [NAME=VALUE...] [ucspitlsd options...]: tcpserver + ucspitlsd + the test app.
serve_app() {
  local assign=()
  while [[ "${1:-}" == *=* ]]; do assign+=("$1"); shift; done
  start_server "${EC[@]}" UST_APP_LOG="$APPLOG" "${assign[@]}" -- "$UST_BIN/ucspitlsd" "$@" "$APP"
}

# ucspitlsc_client [NAME=VALUE...] -- [ucspitlsc options...] -- commands...:
# tcpclient + ucspitlsc + the C client, with only fds 0-2 inherited.
ucspitlsc_client() {
  local assign=() opts=()
  while [ "$1" != -- ]; do assign+=("$1"); shift; done
  shift
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  run tagged timeout 30 env "${assign[@]}" "$HB/closefds" tcpclient -R -H -l0 127.0.0.1 "$PORT" \
    "$UST_BIN/ucspitlsc" -v 0 "${opts[@]}" "$HB/ucspitls-client" "$@" </dev/null
}

# value LINE-PREFIX: the rest of the first output line starting with the prefix.
value() { sed -n "s/^$1//p" <<<"$output" | head -n1; }

# The set of descriptors the app reported, and the one it should be.
fds_expected() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# ------------------------------------------------------------------ the two start paths

@test "y: the app starts TLS without the info block and goes on with its protocol inside TLS" {
  serve_app
  run starttls_client "ECHO before" "STARTTLS y" "ECHO inside" "INFO SSL_PROTOCOL" "@BIG 100000" QUIT
  assert_success
  assert_line "< HELLO tls-available"
  assert_line "< ECHO before"
  assert_line "< OK"
  assert_line --regexp "^TLS version=$TLS_VERSION cipher=[^ ]+ peer_cn=localhost peer_sha256=$(cat "$CERTS/server-ec.sha256")\$"
  assert_line "< ECHO inside"
  assert_line "< INFO SSL_PROTOCOL unset"
  assert_line "< BIG ok 100000"
  assert_line "< BYE"
  grep -qx "START y ok" "$APPLOG"
}

@test "Y: the info block reaches the app: protocol, cipher and SNI as the client negotiated, no peer certificate" {
  serve_app
  run starttls_client "STARTTLS Y" "INFO SSL_PROTOCOL" "INFO SSL_CIPHER" "INFO SSL_TLS_SNI_SERVERNAME" \
    "INFO SSL_PEER_CERT_HASH" "INFO SSL_PEER_CERT_SUBJECT" QUIT
  assert_success
  cipher=$(sed -n 's/^TLS version=[^ ]* cipher=\([^ ]*\) .*/\1/p' <<<"$output")
  [ -n "$cipher" ]
  assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line "< INFO SSL_CIPHER=$cipher"
  assert_line "< INFO SSL_TLS_SNI_SERVERNAME=localhost"
  assert_line "< INFO SSL_PEER_CERT_HASH unset"
  assert_line "< INFO SSL_PEER_CERT_SUBJECT unset"
  assert_line "< BYE"
}

@test "Y, s6-style application: writes Y itself and reads the block until EOF; nothing follows the terminator" {
  serve_app
  run starttls_client "STARTTLS S6" "INFO SSL_PROTOCOL" "ECHO inside" QUIT
  assert_success
  assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line "< ECHO inside"
  run grep -E '^S6 block ' "$APPLOG"
  [[ "$output" =~ ^S6\ block\ ([0-9]+)\ bytes,\ ([0-9]+)\ up\ to ]]
  assert_equal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
}

@test "Y: a client certificate (-Y) shows in the info block as SSL_PEER_CERT_HASH and SSL_PEER_CERT_SUBJECT" {
  serve_app CAFILE="$CERTS/ca.pem" -Y
  run starttls_client --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
    "STARTTLS Y" "INFO SSL_PEER_CERT_HASH" "INFO SSL_PEER_CERT_SUBJECT" QUIT
  assert_success
  assert_line "< INFO SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  assert_line --regexp '^< INFO SSL_PEER_CERT_SUBJECT=.*UST Test Client'
}

@test "Y: SNI selects the certificate and shows in the info block" {
  serve_app "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key"
  run starttls_client --sni mail.example.org "STARTTLS Y" "INFO SSL_TLS_SNI_SERVERNAME" QUIT
  assert_success
  assert_line --regexp "^TLS .* peer_sha256=$(cat "$CERTS/mail.sha256")\$"
  assert_line "< INFO SSL_TLS_SNI_SERVERNAME=mail.example.org"
}

@test "-y: without a client certificate the handshake fails; the app learns it and everything ends" {
  serve_app CAFILE="$CERTS/ca.pem" -y
  run starttls_client "STARTTLS Y" "ECHO never"
  refute_line "< ECHO never"
  wait_grep '^START Y FAILED' "$APPLOG"
  wait_sessions_gone 5
}

# ------------------------------------------------------------------ declining and other bytes

@test "decline: NOTLS closes SSLCTLFD, the controller child exits 0, cleartext goes on" {
  serve_app
  run starttls_client NOTLS "ECHO still clear" WAIT "STARTTLS y" FDS QUIT
  assert_success
  assert_line "< DECLINED"
  assert_line "< ECHO still clear"
  assert_line "< CHILD exit=0"
  assert_line "< ERR no tls"
  assert_line "< FDS 0 1 2"
  refute_line --partial "TLS version="
}

@test "decline by exiting: the app quits without a command byte; the controller child goes too" {
  serve_app
  run starttls_client "ECHO hi" QUIT
  assert_success
  assert_line "< BYE"
  wait_sessions_gone 5
}

@test "any other command byte: the controller child exits 100, no TLS, cleartext still works" {
  serve_app
  run starttls_client "BYTE x" CTLREAD WAIT "ECHO still clear" QUIT
  assert_success
  assert_line "< SENT"
  assert_line "< CTL EOF"
  assert_line "< CHILD exit=100"
  assert_line "< ECHO still clear"
  grep -E '^ucspitlsd: [a-z]+: .*0x78' "$SERVER_LOG"
  run grep -c tlsd-io "$SERVER_LOG"
  assert_output 0
  run starttls_client 'BYTE \x00' WAIT QUIT
  assert_line "< CHILD exit=100"
}

# ------------------------------------------------------------------ O_NONBLOCK

@test "O_NONBLOCK: the app sets it on 0, 1 and the SSL fds, then y: handshake and bulk data work" {
  serve_app
  run starttls_client NB "STARTTLS y" "ECHO inside" "@BIG 1000000" QUIT
  assert_success
  assert_line "< NB"
  assert_line "< ECHO inside"
  assert_line "< BIG ok 1000000"
}

@test "O_NONBLOCK: the same with Y" {
  serve_app
  run starttls_client NB "STARTTLS Y" "INFO SSL_PROTOCOL" "@BIG 1000000" QUIT
  assert_success
  assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line "< BIG ok 1000000"
}

@test "O_NONBLOCK: an app that writes y by hand and leaves O_NONBLOCK on the socket still gets TLS" {
  serve_app
  run starttls_client NB "STARTTLS RAW" "ECHO inside" "@BIG 300000" QUIT
  assert_success
  assert_line "< ECHO inside"
  assert_line "< BIG ok 300000"
}

@test "ucspitlsd clears O_NONBLOCK on the network before exec'ing the engine, and hands it its options (fake engine)" {
  mkdir "$T/fake"
  cp "$UST_BIN/ucspitlsd" "$T/fake/"
  cat > "$T/fake/tlsd-io" <<'SH'
#!/bin/bash
# a fake engine: records its arguments, its descriptors and the O_NONBLOCK state of 0 and 1
{
  echo "ARGS $*"
  for fd in 0 1; do
    flags=$(awk '/^flags:/ { print $2 }' /proc/$$/fdinfo/$fd)
    echo "FD$fd nonblock=$(( (8#$flags & 8#4000) != 0 ))"
  done
  echo "FDS $(ls /proc/$$/fd | sort -n | tr '\n' ' ')"
} > "$FAKE_OUT"
SH
  chmod +x "$T/fake/tlsd-io"
  start_server "${EC[@]}" UST_APP_LOG="$APPLOG" FAKE_OUT="$T/fake.out" -- \
    "$T/fake/ucspitlsd" -K 1234 -t 5678 -S -J -Y -k 2 -v 2 "$APP"
  run starttls_client NB "@SEND STARTTLS RAW" "@READ" "@HOLD"
  wait_file "$T/fake.out"
  run cat "$T/fake.out"
  assert_line "FD0 nonblock=0"
  assert_line "FD1 nonblock=0"
  assert_line --regexp '^ARGS .*-K 1234 '
  assert_line --regexp '^ARGS .*-t 5678 '
  assert_line --regexp '^ARGS .*-S '
  assert_line --regexp '^ARGS .*-J '
  assert_line --regexp '^ARGS .*-Y '
  assert_line --regexp '^ARGS .*-k 2 '
  refute_line --regexp '^ARGS .*-d '
  # with Y, -d names the control socket, which the engine has open
  rm -f "$T/fake.out"
  run starttls_client "@SEND STARTTLS Y" "@READ" "@HOLD"
  wait_file "$T/fake.out"
  run cat "$T/fake.out"
  [[ "$(grep ^ARGS <<<"$output")" =~ -d\ ([0-9]+)\  ]]
  ctl=${BASH_REMATCH[1]}
  assert_line --regexp "^FDS .* $ctl( |\$)"
}

# ------------------------------------------------------------------ deadlines and leftovers

@test "handshake timeout: STARTTLS Y then silence: everything ends within -K (1 s), the app learns it" {
  serve_app -K 1000
  run starttls_client "@SEND STARTTLS Y" "@READ" "@HOLD"
  assert_success
  assert_line "< OK"
  t=$(value "EOF after ")
  echo "connection closed after $t s"
  python3 -c "import sys; sys.exit(not (0.6 <= $t <= 3.5))"
  wait_grep '^START Y FAILED' "$APPLOG" 5
  wait_sessions_gone 3
}

@test "handshake timeout: STARTTLS y then silence: everything ends within -K (1 s)" {
  serve_app -K 1000
  run starttls_client "@SEND STARTTLS y" "@READ" "@HOLD"
  assert_success
  t=$(value "EOF after ")
  python3 -c "import sys; sys.exit(not (0.6 <= $t <= 3.5))"
  wait_sessions_gone 3
}

@test "leftovers: the client disconnects before any command" {
  serve_app
  run starttls_client @CLOSE
  assert_success
  wait_sessions_gone 5
}

@test "leftovers: the client disconnects in the middle of the handshake" {
  serve_app
  # half of a ClientHello record header and body, then gone
  run starttls_client "@SEND STARTTLS Y" "@READ" "@RAW 16030100c8010000c40303" @CLOSE
  assert_success
  wait_grep '^START Y FAILED' "$APPLOG" 5
  wait_sessions_gone 5
}

@test "leftovers: the client disconnects in the middle of the session (idle, and while the app writes)" {
  serve_app
  run starttls_client "STARTTLS y" "ECHO hi" @CLOSE
  assert_success
  wait_sessions_gone 5
  run starttls_client "STARTTLS Y" "@SEND BIG 50000000" @CLOSE
  assert_success
  wait_sessions_gone 5
}

@test "half-close inside TLS: the client shuts its write side, the app sees EOF and still answers" {
  serve_app
  run starttls_client "STARTTLS y" "ECHO hi" @SHUT
  assert_success
  assert_line "< EOF"
  assert_line "< (EOF)"
  grep -qx EOF "$APPLOG"
}

# ------------------------------------------------------------------ environment and descriptors

@test "-z (default): the app sees the SSL fds but no TLS variables; a stale SSLCTLFD is replaced" {
  serve_app "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" \
    CAFILE="$CERTS/ca.pem" TLS_UID=0 SSLCTLFD=99
  run starttls_client "ENV CERTFILE" "ENV KEYFILE" "ENV CAFILE" "ENV TLS_UID" "ENV CERTFILE:mail.example.org" \
    "ENV SSLCTLFD" "ENV SSLREADFD" "ENV SSLWRITEFD" QUIT
  assert_success
  assert_line "< ENV CERTFILE unset"
  assert_line "< ENV KEYFILE unset"
  assert_line "< ENV CAFILE unset"
  assert_line "< ENV TLS_UID unset"
  assert_line "< ENV CERTFILE:mail.example.org unset"
  assert_line --regexp '^< ENV SSLCTLFD=[0-9]+$'
  refute_line "< ENV SSLCTLFD=99"
  assert_line --regexp '^< ENV SSLREADFD=[0-9]+$'
  assert_line --regexp '^< ENV SSLWRITEFD=[0-9]+$'
}

@test "-Z: the app sees the TLS variables" {
  serve_app "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" -Z
  run starttls_client "ENV CERTFILE" "ENV KEYFILE" "ENV CERTFILE:mail.example.org" QUIT
  assert_success
  assert_line "< ENV CERTFILE=$CERTS/server-ec.pem"
  assert_line "< ENV KEYFILE=$CERTS/server-ec.key"
  assert_line "< ENV CERTFILE:mail.example.org=$CERTS/mail.pem"
}

@test "descriptors: the app holds exactly 0, 1, 2 and the three SSL fds; after y, 0, 1, 2 and the two pipes" {
  serve_app
  run starttls_client "ENV SSLCTLFD" "ENV SSLREADFD" "ENV SSLWRITEFD" FDS "STARTTLS y" FDS QUIT
  assert_success
  ctl=$(value "< ENV SSLCTLFD=") r=$(value "< ENV SSLREADFD=") w=$(value "< ENV SSLWRITEFD=")
  before=$(sed -n 's/^< FDS //p' <<<"$output" | sed -n 1p)
  after=$(sed -n 's/^< FDS //p' <<<"$output" | sed -n 2p)
  assert_equal "$before" "$(fds_expected 0 1 2 "$ctl" "$r" "$w")"
  assert_equal "$after" "$(fds_expected 0 1 2 "$r" "$w")"
}

@test "descriptors: the engine holds 0, 1, 2, the app's two pipes, and the control socket only until the info block" {
  serve_app
  starttls_client "@SEND STARTTLS Y" "@READ" "@PAUSE $T/go1" "@HANDSHAKE" "ECHO inside" "@PAUSE $T/go2" QUIT \
    > "$T/client.out" 2>&1 3>&- &
  client=$!
  wait_grep '^PAUSED' "$T/client.out"
  app=$(wait_pid_named ucspitls-app 5)
  eng=$(wait_pid_named tlsd-io 5)
  r=$(tr '\0' '\n' < "/proc/$app/environ" | sed -n 's/^SSLREADFD=//p')
  w=$(tr '\0' '\n' < "/proc/$app/environ" | sed -n 's/^SSLWRITEFD=//p')
  rpipe=$(fd_target "$app" "$r") wpipe=$(fd_target "$app" "$w")
  [[ "$rpipe" == pipe:* && "$wpipe" == pipe:* ]]
  # before the handshake (the engine may still be reading its key files: bounded wait)
  end=$((SECONDS + 5))
  until [ "$(fd_list "$eng" | wc -w)" = 6 ] || [ $SECONDS -ge $end ]; do sleep 0.02; done
  echo "engine fds before the handshake: $(fd_list "$eng")"
  [ "$(fd_list "$eng" | wc -w)" = 6 ]
  targets=$(for fd in $(fd_list "$eng"); do fd_target "$eng" "$fd"; done)
  echo "$targets"
  [[ "$(fd_target "$eng" 0)" == socket:* && "$(fd_target "$eng" 1)" == socket:* ]]
  grep -qxF "$rpipe" <<<"$targets"
  grep -qxF "$wpipe" <<<"$targets"
  [ "$(grep -c '^socket:' <<<"$targets")" = 3 ]
  touch "$T/go1"
  wait_grep '^< ECHO inside' "$T/client.out"
  wait_grep 'PAUSED' "$T/client.out"
  echo "engine fds in the session: $(fd_list "$eng")"
  [ "$(fd_list "$eng" | wc -w)" = 5 ]
  targets=$(for fd in $(fd_list "$eng"); do fd_target "$eng" "$fd"; done)
  grep -qxF "$rpipe" <<<"$targets"
  grep -qxF "$wpipe" <<<"$targets"
  [ "$(grep -c '^socket:' <<<"$targets")" = 2 ]
  touch "$T/go2"
  wait "$client"
  grep -qx "< BYE" "$T/client.out"
}

# ------------------------------------------------------------------ ucspitlsc

@test "ucspitlsc: a client app starts TLS with Y over tcpclient's 6/7 and reads its own info block" {
  serve_app
  ucspitlsc_client CAFILE="$CERTS/ca.pem" -- -k localhost -- "ECHO clear" "STARTTLS Y" "ECHO secret" "INFO SSL_PROTOCOL" QUIT
  assert_success
  assert_line "< ECHO clear"
  assert_line "CLIENT TLS started"
  assert_line "CLIENTINFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line --regexp '^CLIENTINFO SSL_CIPHER=.+'
  assert_line "CLIENTINFO SSL_TLS_SNI_SERVERNAME=localhost"
  assert_line "CLIENTINFO SSL_PEER_CERT_HASH=$(cat "$CERTS/server-ec.sha256")"
  assert_line "< ECHO secret"
  assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line "< BYE"
}

@test "ucspitlsc: y path, and the client's descriptors are 0-2, 6, 7 and the three SSL fds" {
  serve_app
  ucspitlsc_client CAFILE="$CERTS/ca.pem" -- -k localhost -- "@ENV SSLCTLFD" "@ENV SSLREADFD" "@ENV SSLWRITEFD" @FDS \
    "STARTTLS y" "ECHO secret" QUIT
  assert_success
  assert_line "CLIENT TLS started"
  refute_line --partial CLIENTINFO
  assert_line "< ECHO secret"
  ctl=$(value "MYENV SSLCTLFD=") r=$(value "MYENV SSLREADFD=") w=$(value "MYENV SSLWRITEFD=")
  assert_equal "$(value "MYFDS ")" "$(fds_expected 0 1 2 6 7 "$ctl" "$r" "$w")"
}

@test "ucspitlsc: a server certificate from another CA fails the start (98); both sides end" {
  serve_app
  ucspitlsc_client CAFILE="$CERTS/ca2.pem" -- -k localhost -- "STARTTLS Y" "ECHO never"
  assert_failure 98
  refute_line "< ECHO never"
  wait_grep '^START Y FAILED' "$APPLOG" 5
  wait_sessions_gone 5
}

@test "ucspitlsc: a server certificate for another name than -k fails the start" {
  serve_app
  ucspitlsc_client CAFILE="$CERTS/ca.pem" -- -k mail.example.org -- "STARTTLS Y" "ECHO never"
  assert_failure 98
  refute_line "< ECHO never"
  wait_sessions_gone 5
}

@test "ucspitlsc -y: the client certificate reaches the server's info block" {
  serve_app CAFILE="$CERTS/ca.pem" -y
  ucspitlsc_client CAFILE="$CERTS/ca.pem" CERTFILE="$CERTS/client.pem" KEYFILE="$CERTS/client.key" -- -y -k localhost -- \
    "STARTTLS Y" "INFO SSL_PEER_CERT_HASH" QUIT
  assert_success
  assert_line "< INFO SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
}

@test "ucspitlsc: the client app declines; cleartext goes on; -z hides CAFILE, -Z shows it" {
  serve_app
  ucspitlsc_client CAFILE="$CERTS/ca.pem" -- -k localhost -- "@ENV CAFILE" @DECLINE "ECHO clear" QUIT
  assert_success
  assert_line "MYENV CAFILE unset"
  assert_line "DECLINED"
  assert_line "< ECHO clear"
  assert_line "< BYE"
  ucspitlsc_client CAFILE="$CERTS/ca.pem" -- -Z -k localhost -- "@ENV CAFILE" QUIT
  assert_success
  assert_line "MYENV CAFILE=$CERTS/ca.pem"
}

@test "ucspitlsc: non-blocking network descriptors from the parent are fine" {
  serve_app
  run tagged timeout 30 env CAFILE="$CERTS/ca.pem" "$HB/closefds" tcpclient -R -H -l0 127.0.0.1 "$PORT" \
    "$HB/setnb" 6 7 -- "$UST_BIN/ucspitlsc" -v 0 -k localhost "$HB/ucspitls-client" "STARTTLS Y" "ECHO secret" QUIT </dev/null
  assert_success
  assert_line "< ECHO secret"
}

# ------------------------------------------------------------------ usage

@test "controllers: usage errors are exit 100" {
  run tagged timeout 10 "$UST_BIN/ucspitlsd"
  assert_failure 100
  run tagged timeout 10 "$UST_BIN/ucspitlsd" -X "$APP"
  assert_failure 100
  run tagged timeout 10 "$UST_BIN/ucspitlsd" -k many "$APP"
  assert_failure 100
  run tagged timeout 10 "$UST_BIN/ucspitlsd" -K soon "$APP"
  assert_failure 100
  run tagged timeout 10 "$UST_BIN/ucspitlsc" -6 x "$APP"
  assert_failure 100
  run tagged timeout 10 "$UST_BIN/ucspitlsc"
  assert_failure 100
}

@test "a controller that keeps the control socket open after the info block: libucspitls stops at the terminator" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    -- "$PY" "$SCRIPTS/keepopen-controller.py" "$UST_BIN/tlsd-io" "$UST_EXAMPLES/starttls-echo"
  run tagged timeout 20 "$PY" "$SCRIPTS/echo-client.py" "$PORT" "$CERTS/ca.pem"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "tls: TLSv1."*"bye" ]]
}

@test "smtpd-starttls under a controller that keeps the control socket open: STARTTLS completes" {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    -- "$PY" "$SCRIPTS/keepopen-controller.py" "$UST_BIN/tlsd-io" "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run tagged timeout 30 "$PY" -c "
import smtplib, ssl
s = smtplib.SMTP('127.0.0.1', $PORT, timeout=10)
s.starttls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
s.ehlo(); s.noop(); s.quit(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

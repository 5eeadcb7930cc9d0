#!/usr/bin/env bats
# closenotify.bats: how a TLS session ends, with either backend (issue 14,
# items 5 and 6).
#
# A client that sends its last commands and close_notify together (gnutls-cli
# at its stdin EOF, scripts, monitoring checks) gets every reply the
# application writes, then our close_notify. The server sends close_notify
# when its application closes its output (-S, the default of tlsd-io), so
# that openssl s_client and gnutls-cli see a clean end after QUIT or LOGOUT;
# -s still gives the bare TCP half-close.
#
# CLOSE_SESSIONS (default 100) sets how many gnutls-cli sessions the main
# loop runs (the issue asks for 1000: CLOSE_SESSIONS=1000 bats ...); the
# other paths run a fifth of it.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  command -v gnutls-cli >/dev/null || skip "gnutls-cli not installed (Debian gnutls-bin)"
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  SESSIONS=${CLOSE_SESSIONS:-100}
  FEW=$(( SESSIONS / 5 > 10 ? SESSIONS / 5 : 10 ))
}

teardown() {
  ust_teardown
}

# slow_imap SLOW_MODE [ucspitlsd options...]: imapd-starttls under ucspitlsd
# in front of slow-imapd.py, which answers each command after 30 ms (notls:
# the proxy hands its pipes to the engine; starttls: the proxy relays).
slow_imap() {
  local mode=$1
  shift
  start_server "${EC[@]}" SLOW_MODE="$mode" -- "$UST_BIN/ucspitlsd" "$@" -- "$UST_BIN/imapd-starttls" -- "$PY" "$SCRIPTS/slow-imapd.py"
}

# close_loop ARGS...: close-loop.py against $PORT; every session must have
# all its replies and a clean end.
close_loop() {
  local f
  run tagged timeout 900 "$PY" "$SCRIPTS/close-loop.py" --port "$PORT" --ca "$CERTS/ca.pem" --jobs 4 --keep "$T" "$@"
  echo "$output"
  for f in "$T"/failed.*; do
    [ -e "$f" ] && { echo "=== $f"; cat "$f"; }
  done
  assert_line lost=0
  assert_line unclean=0
  assert_success
}

# ------------------------------------------------------------------ item 5: no reply lost

@test "close_notify with the last commands: gnutls-cli --starttls-proto=imap, \$CLOSE_SESSIONS sessions (direct handoff): every reply arrives" {
  slow_imap notls
  close_loop --sessions "$SESSIONS" --starttls imap
  assert_line "sessions=$SESSIONS"
}

@test "close_notify with the last commands, through the proxy's relay (a backend that advertises STARTTLS): every reply arrives" {
  slow_imap starttls
  close_loop --sessions "$FEW" --starttls imap
}

@test "close_notify with the last commands, immediate TLS (tlsd), TLS 1.2 forced: every reply arrives" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" "$PY" "$SCRIPTS/slow-imapd.py"
  close_loop --sessions "$FEW" --priority NORMAL:-VERS-TLS1.3
}

@test "the peer's close_notify with its request: prog sees EOF, still answers, and the client gets the answer, then our close_notify (default, -s, -S)" {
  local opt
  for opt in "" -s -S; do
    start_server "${EC[@]}" -- "$UST_BIN/tlsd" $opt bash -c 'n=$(wc -c); sleep 0.2; echo "got $n bytes"'
    run tls_client --send 'hello\n' --shut notify --info
    echo "tlsd $opt: $output"
    assert_success
    assert_line "got 6 bytes"
    assert_line eof=clean
  done
}

@test "after the peer's close_notify the application has -g in all: one that never closes its output ends the engine with 99" {
  mkfifo "$T/fifo"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" -g 500 3 4 3<>"$1" 4>/dev/null' "$UST_BIN/tlsd-io" "$T/fifo"
  SECONDS=0
  run tls_client --send 'x' --shut notify
  assert_equal "$(rc_of "$T/rc")" 99
  [ "$SECONDS" -le 5 ]
  grep -q 'did not end its output within -g' "$SERVER_LOG"
}

# ------------------------------------------------------------------ item 6: close_notify by default

@test "QUIT: openssl s_client sees close_notify after SMTP QUIT (no 'unexpected eof'), relay and direct handoff" {
  local mode
  for mode in normal notls; do
    start_server "${EC[@]}" FAKE_MODE=$mode -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
    run s_client -starttls smtp <<<$'EHLO client.example\r\nQUIT\r'
    echo "backend $mode: $output"
    assert_success
    assert_output --partial "221 2.0.0 bye"
    refute_output --partial "unexpected eof"
  done
}

@test "LOGOUT: openssl s_client and gnutls-cli see close_notify after IMAP LOGOUT (no 'unexpected eof', no 'non-properly terminated')" {
  slow_imap notls
  run s_client -starttls imap <<<$'g1 NOOP\r\ng2 LOGOUT\r'
  echo "$output"
  assert_success
  assert_output --partial "g2 OK LOGOUT completed"
  refute_output --partial "unexpected eof"
  close_loop --sessions 3 --starttls imap --hold-stdin
}

@test "immediate TLS (tlsd): prog exits after its reply; s_client and gnutls-cli see close_notify" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" "$PY" "$SCRIPTS/slow-imapd.py"
  run s_client -servername localhost <<<$'g1 LOGOUT\r'
  echo "$output"
  assert_success
  assert_output --partial "g1 OK LOGOUT completed"
  refute_output --partial "unexpected eof"
  close_loop --sessions 3 --hold-stdin --input 'g2 LOGOUT\r\n' --expect 'g2 OK'
}

@test "-S is the server's default: the python client sees close_notify; -s still gives a bare TCP half-close" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hi
  run tls_client --info
  assert_success
  assert_line eof=clean
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -s echo hi
  run tls_client --info
  assert_success
  assert_line eof=unclean
  # and -s passes through ucspitlsd: LOGOUT ends without close_notify
  slow_imap notls -s
  run s_client -starttls imap <<<$'g1 LOGOUT\r'
  echo "$output"
  assert_output --partial "g1 OK LOGOUT completed"
  assert_output --partial "unexpected eof"
}

@test "-s: prog closes its output first (a bare TCP half-close), then still reads all the client sends" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -s bash -c 'echo early; exec >&-; n=$(wc -c); echo "$n" > "$0"' "$T/seen"
  run tls_client --trickle 3:0.2 --send 'twelve bytes' --shut tcp --info
  assert_success
  assert_line early
  assert_line eof=unclean
  wait_file "$T/seen"
  assert_equal "$(cat "$T/seen")" 33
}

@test "-S under TLS 1.3 (libtls) closes one direction only: prog closes its output first, then still reads all the client sends" {
  [ "$UST_TLS" = libtls ] || skip "BearSSL speaks TLS 1.2, where close_notify ends both directions (RFC 5246 7.2.1): use -s"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'echo early; exec >&-; n=$(wc -c); echo "$n" > "$0"' "$T/seen"
  run tls_client --trickle 3:0.2 --send 'twelve bytes' --shut tcp --info
  assert_success
  assert_line early
  assert_line eof=clean
  wait_file "$T/seen"
  assert_equal "$(cat "$T/seen")" 33
}

@test "tlsc-io keeps -s by default: its prog's EOF is a TCP half-close, and the server's reply still arrives (both backends)" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'n=$(wc -c); sleep 0.2; echo "got $n bytes"'
  run tcp_client env CAFILE="$CERTS/ca.pem" bash -c 'printf "hello\n" | "$0" -v 0 -k localhost "$1" 6 7' "$UST_BIN/tlsc" "$HB/pump"
  assert_success
  assert_output "got 6 bytes"
}

# rc_of FILE: waits for rc.sh's exit-code file, prints the code.
rc_of() { wait_file "$1" 15 && cat "$1"; }

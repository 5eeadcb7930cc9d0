#!/usr/bin/env bats
# sniclean.bats: names from the network and failed setups, with either
# backend (issue 14, item 10): an SNI name with control bytes never reaches a
# log line raw, a client server name longer than 255 bytes is the same usage
# error (exit 100) with BearSSL and libtls, and a session whose setup fails
# leaves no memory behind.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  SNI=("${EC[@]}" "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key")
}

teardown() {
  ust_teardown
}

# raw_hello ARGS...: one hand-made ClientHello to $PORT (see raw-hello.py).
raw_hello() {
  run tagged timeout 20 "$PY" "$SCRIPTS/raw-hello.py" --port "$PORT" "$@"
  echo "$output"
}

# name_of N: a host name of N bytes.
name_of() {
  "$PY" -c 'import sys; n = int(sys.argv[1]); print(".".join(["a" * 63] * 5)[:n])' "$1"
}

@test "SNI: a newline (and other control bytes) in the client's server name never forges a log line: -k 2 refusal, both backends" {
  start_server "${SNI[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/tlsd" -k 2 echo hi
  raw_hello --sni 'evil.example.org\ntlsd-io: fatal: forged line\x01\x7f\xff'
  wait_file "$T/rc"
  assert_equal "$(cat "$T/rc")" 98
  cat "$SERVER_LOG"
  # one line, the name cleaned: no line of the log starts where the name's newline was
  ! grep -q '^tlsd-io: fatal: forged line' "$SERVER_LOG"
  grep -q 'no certificate for the .*server name.*evil\.example\.org?tlsd-io:?fatal:?forged?line???' "$SERVER_LOG"
  ! grep -q $'\x01\|\x7f' "$SERVER_LOG"
}

@test "SNI: the same under ucspitlsd after an IMAP STARTTLS (direct handoff): the engine's refusal is logged cleaned" {
  start_server "${SNI[@]}" FAKE_MODE=notls -- "$UST_BIN/ucspitlsd" -k 2 -- "$UST_BIN/imapd-starttls" -- "$PY" "$SCRIPTS/fake-imapd.py"
  raw_hello --starttls imap --sni 'mail.example.org.evil\rtlsd-io: fatal: forged\nimapd-starttls: info: forged'
  wait_sessions_gone 10
  cat -A "$SERVER_LOG"
  ! grep -q $'\r' "$SERVER_LOG"
  ! grep -q '^imapd-starttls: info: forged' "$SERVER_LOG"
  grep -q 'mail\.example\.org\.evil?tlsd-io:?fatal:?forged?imapd-starttls:?info:?forged' "$SERVER_LOG"
}

@test "tlsc-io -k: a server name of 256 bytes is a usage error (exit 100) with either backend; 255 bytes is accepted" {
  run tagged env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc-io" -k "$(name_of 256)" -6 0 -7 1 3 4 </dev/null 3</dev/null 4>/dev/null
  echo "$output"
  assert_failure 100
  assert_output --partial "at most 255 bytes"
  # 255 goes on to the handshake, which fails on this non-network (98)
  run tagged timeout 10 env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc-io" -K 2000 -k "$(name_of 255)" -6 0 -7 1 3 4 </dev/null 3</dev/null 4>/dev/null
  echo "$output"
  assert_failure 98
  # the wrappers pass -k on: the same exit code through tlsc
  run tagged env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -k "$(name_of 300)" true </dev/null 6</dev/null 7>/dev/null
  echo "$output"
  assert_failure 100
}

@test "a failed setup frees the half-made session: valgrind finds nothing lost, not even possibly (both roles, both backends)" {
  command -v valgrind >/dev/null || skip "valgrind not installed (Debian valgrind)"
  [ "${UST_SANITIZERS:-0}" = 0 ] || skip "built with sanitizers"
  [ "${UST_STATIC_BUILD:-0}" = 0 ] || skip "static build: valgrind needs the dynamic one"
  local vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=42)
  # a key that does not match its certificate: the contexts are made, then refused
  run tagged env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-rsa.key" "${vg[@]}" "$UST_BIN/tlsd-io" 3 4 </dev/null
  echo "$output"
  assert_failure 96
  # an unreadable key file
  run tagged env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/broken.key" "${vg[@]}" "$UST_BIN/tlsd-io" 3 4 </dev/null
  echo "$output"
  assert_failure 96
  # the client: broken trust anchors
  run tagged env CAFILE="$CERTS/broken.pem" "${vg[@]}" "$UST_BIN/tlsc-io" -k localhost 3 4 </dev/null
  echo "$output"
  assert_failure 96
}

#!/usr/bin/env bats
# valgrind.bats: the engines under valgrind memcheck in a handful of sessions
# (success, client certificate, handshake failure, handshake timeout,
# configuration error; server and client; directly, under tlsd and under
# ucspitlsd): no memory error, no definite leak.
#
# The wrappers find the engine next to their own executable, so they are
# copied into a directory where tlsd-io/tlsc-io are scripts running the real
# engines under valgrind, one log file per process.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  command -v valgrind >/dev/null || skip "valgrind not installed (Debian valgrind)"
  [ "${UST_SANITIZERS:-0}" = 0 ] || skip "built with sanitizers: ASan does the memory checking instead"
  # valgrind cannot replace malloc in a static executable (no leak checking)
  # and reports static glibc's own exit path; the dynamic builds run these.
  [ "${UST_STATIC_BUILD:-0}" = 0 ] || skip "static build: valgrind needs the dynamic one"
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  VGLOGS=$T/vglogs
  VGBIN=$T/vgbin
  mkdir -p "$VGLOGS" "$VGBIN"
  cp "$UST_BIN/tlsd" "$UST_BIN/tlsc" "$UST_BIN/ucspitlsd" "$UST_BIN/ucspitlsc" "$VGBIN/"
  for e in tlsd-io tlsc-io; do
    printf '#!/bin/bash\nexec valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=%s/%s.%%p.log %s "$@"\n' \
      "$VGLOGS" "$e" "$UST_BIN/$e" > "$VGBIN/$e"
    chmod +x "$VGBIN/$e"
  done
}

teardown() {
  ust_teardown
}

# assert_clean N: at least N engine runs were logged, and every log is empty.
assert_clean() {
  local n f bad=0
  n=$(ls "$VGLOGS" | wc -l)
  echo "valgrind logs: $n"
  [ "$n" -ge "$1" ] || { echo "expected at least $1 valgrind runs"; return 1; }
  for f in "$VGLOGS"/*.log; do
    if [ -s "$f" ]; then
      echo "=== $f"
      cat "$f"
      bad=1
    fi
  done
  [ "$bad" = 0 ]
}

rc_of() { wait_file "$1" 60 && cat "$1"; }

# (No SNI pairs here: valgrind's launcher drops environment entries whose
# names are not identifiers, such as CERTFILE:name.)
@test "valgrind: tlsd-io, a session with data both ways, then with a client certificate" {
  head -c 100000 /dev/urandom > "$T/s.in"
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- \
    "$SCRIPTS/rc.sh" "$T/rc" bash -c 'exec "$0" -Y 3 4 3<"$1" 4>/dev/null' "$VGBIN/tlsd-io" "$T/s.in"
  run tls_client --send 'hello\n' --shut tcp --expect-file "$T/s.in" --timeout 60 --out /dev/null
  assert_success
  assert_equal "$(rc_of "$T/rc")" 0
  rm -f "$T/rc"
  run tls_client --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
    --send 'hello\n' --shut tcp --expect-file "$T/s.in" --timeout 60 --out /dev/null
  assert_success
  assert_equal "$(rc_of "$T/rc")" 0
  assert_clean 2
}

@test "valgrind: tlsd-io, a failed handshake (-y without a client certificate) and a handshake timeout" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- \
    "$SCRIPTS/rc.sh" "$T/rc" bash -c 'exec "$0" -y -K 3000 3 4 3</dev/null 4>/dev/null' "$VGBIN/tlsd-io"
  run tls_client --timeout 60
  assert_equal "$(rc_of "$T/rc")" 98
  rm -f "$T/rc"
  run tls_client --hold --timeout 60
  assert_equal "$(rc_of "$T/rc")" 98
  assert_clean 2
}

@test "valgrind: configuration errors (bad key: 96) and a bad environment (100)" {
  run tagged timeout 60 env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/broken.key" "$VGBIN/tlsd-io" 3 4 </dev/null
  assert_failure 96
  run tagged timeout 60 env -u KEYFILE CERTFILE="$CERTS/server-ec.pem" "$VGBIN/tlsd-io" 3 4 </dev/null
  assert_failure 100
  run tagged timeout 60 env -u CAFILE -u CADIR CAFILE="$CERTS/broken.pem" "$VGBIN/tlsc-io" -k localhost 3 4 </dev/null
  assert_failure 96
  assert_clean 3
}

@test "valgrind: tlsc-io under tlsc against tlsd (engine on both sides), 1 MB each way; and a rejected server" {
  big=$(data_file vg1m 1000000)
  start_server "${EC[@]}" -- "$VGBIN/tlsd" cat
  run tagged timeout 120 env CAFILE="$CERTS/ca.pem" tcpclient -R -H -l0 127.0.0.1 "$PORT" \
    "$VGBIN/tlsc" -v 0 -k localhost "$HB/pump" -c 6 7 <"$big"
  assert_success
  assert_output "bytes=1000000 sha256=$(sha256_of "$big")"
  run tagged timeout 120 env CAFILE="$CERTS/ca2.pem" tcpclient -R -H -l0 127.0.0.1 "$PORT" \
    "$VGBIN/tlsc" -v 0 -k localhost true
  assert_failure 98
  wait_sessions_gone 30
  assert_clean 4
}

@test "valgrind: the engine under ucspitlsd (Y, info block) and under ucspitlsc" {
  start_server "${EC[@]}" UST_APP_LOG="$T/app.log" -- "$VGBIN/ucspitlsd" "$HB/ucspitls-app"
  run starttls_client --timeout 60 "STARTTLS Y" "INFO SSL_PROTOCOL" "@BIG 200000" QUIT
  assert_success
  assert_line "< INFO SSL_PROTOCOL=$TLS_VERSION"
  assert_line "< BIG ok 200000"
  run tagged timeout 120 env CAFILE="$CERTS/ca.pem" tcpclient -R -H -l0 127.0.0.1 "$PORT" \
    "$VGBIN/ucspitlsc" -v 0 -k localhost "$HB/ucspitls-client" -t 60000 "STARTTLS Y" "ECHO secret" QUIT </dev/null
  assert_success
  assert_line "< ECHO secret"
  wait_sessions_gone 30
  assert_clean 3
}

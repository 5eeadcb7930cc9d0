#!/usr/bin/env bats
# privilege.bats: with TLS_UID/TLS_GID the engine runs the handshake and the
# relay unprivileged, and the application never learns where the keys are.

load helpers/common

setup() {
  ust_setup
  chmod 600 "$CERTS"/*.key   # a key only root can read
}

teardown() {
  ust_teardown
}

# The application reports the ids of its engine (the tlsd-io process holding
# the other end of our stdin pipe) and what it can see of the keys.
write_probe() {
  cat > "$BATS_TEST_TMPDIR/probe" <<'SH'
#!/bin/sh
for p in /proc/[0-9]*; do
  [ "$(cat $p/comm 2>/dev/null)" = tlsd-io ] || continue
  mine=$(readlink /proc/$$/fd/0)
  found=no
  for f in $p/fd/*; do [ "$(readlink $f 2>/dev/null)" = "$mine" ] && found=yes; done
  [ $found = yes ] || continue
  grep -E '^(Uid|Gid|Groups):' $p/status | tr -s '\t' ' '
done
echo "keyfile-var=${KEYFILE:-unset} certfile-var=${CERTFILE:-unset}"
SH
  chmod +x "$BATS_TEST_TMPDIR/probe"
}

@test "TLS_UID/TLS_GID: the engine runs as that user and group, with no other groups" {
  [ "$(id -u)" = 0 ] || skip "needs root to change ids"
  write_probe
  uid=$(id -u nobody) gid=$(getent group nogroup | cut -d: -f3)
  start_server -- env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" TLS_UID="$uid" TLS_GID="$gid" \
    "$UST_BIN/tlsd" -- "$BATS_TEST_TMPDIR/probe"
  run timeout 10 openssl s_client -connect 127.0.0.1:"$PORT" -CAfile "$CERTS/ca.pem" -quiet </dev/null
  echo "$output"
  [[ "$output" == *"Uid: $uid $uid $uid $uid"* ]]
  [[ "$output" == *"Gid: $gid $gid $gid $gid"* ]]
  [[ "$output" == *"Groups: $gid"* ]]
  [[ "$output" == *"keyfile-var=unset certfile-var=unset"* ]]
}

@test "the key is read before the privilege drop: a root-only key still works" {
  [ "$(id -u)" = 0 ] || skip "needs root to change ids"
  write_probe
  [ "$(stat -c %a "$CERTS/server-ec.key")" = 600 ]
  start_server -- env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" TLS_UID="$(id -u nobody)" TLS_GID="$(getent group nogroup | cut -d: -f3)" \
    "$UST_BIN/tlsd" -- "$BATS_TEST_TMPDIR/probe"
  run timeout 10 openssl s_client -connect 127.0.0.1:"$PORT" -CAfile "$CERTS/ca.pem" -quiet </dev/null
  [[ "$output" == *"Uid:"* ]]
}

@test "a non-numeric TLS_UID is a usage error (100), before any TLS" {
  run env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" TLS_UID=nobody "$UST_BIN/tlsd-io" 3 4 </dev/null 3</dev/null 4>/dev/null
  [ "$status" -eq 100 ]
  [[ "$output" == *"TLS_UID"* ]]
}

@test "without TLS_UID the application still never sees the key locations (-z), and does with -Z" {
  write_probe
  start_server -- env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" "$UST_BIN/tlsd" -Z -- "$BATS_TEST_TMPDIR/probe"
  run timeout 10 openssl s_client -connect 127.0.0.1:"$PORT" -CAfile "$CERTS/ca.pem" -quiet </dev/null
  [[ "$output" == *"keyfile-var=$CERTS/server-ec.key"* ]]
}

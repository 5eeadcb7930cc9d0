#!/usr/bin/env bats
# engine.bats: the TLS engines tlsd-io and tlsc-io, directly and through the
# immediate-TLS wrappers tlsd and tlsc, against openssl s_client/s_server,
# gnutls-cli, python ssl and each other. Every test runs with either backend
# ($UST_TLS) and is written to fail when the behaviour is missing.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  RSA=(CERTFILE="$CERTS/server-rsa.pem" KEYFILE="$CERTS/server-rsa.key")
  SNI=("${EC[@]}"
    "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key"
    "CERTFILE:other.example.org=$CERTS/other.pem" "KEYFILE:other.example.org=$CERTS/other.key"
    "CERTFILE:*.example.net=$CERTS/wild.pem" "KEYFILE:*.example.net=$CERTS/wild.key")
  CLIENT=(--cert "$CERTS/client.pem" --key "$CERTS/client.key")
}

teardown() {
  ust_teardown
}

# fact NAME: the value of a NAME=value line in $output.
fact() { sed -n "s/^$1=//p" <<<"$output" | head -n1; }

# rc_of FILE: waits for rc.sh's exit-code file, prints the code.
rc_of() { wait_file "$1" 15 && cat "$1"; }

# engine_conf [NAME=VALUE...] -- ENGINE ARGS...: runs an engine with only the
# given TLS variables, no network (stdin /dev/null): configuration checks.
engine_conf() {
  local assign=()
  while [ "$1" != -- ]; do assign+=("$1"); shift; done
  shift
  run tagged timeout 10 env -u CERTFILE -u KEYFILE -u CAFILE -u CADIR "${assign[@]}" "$@" </dev/null
}

# ------------------------------------------------------------------ interop

@test "tlsd: openssl s_client verifies the server and gets the backend's protocol version" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'echo "hello over $SSL_PROTOCOL"'
  run s_client -servername localhost </dev/null
  assert_output --partial "Protocol version: $TLS_VERSION"
  assert_output --partial "Verification: OK"
  assert_output --partial "hello over $TLS_VERSION"
}

@test "tlsd: python ssl client; prog's SSL_PROTOCOL and SSL_CIPHER are what the client negotiated" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" "$SHOWENV"
  run tls_client --info
  assert_success
  version=$(fact version) cipher=$(fact cipher)
  assert_equal "$version" "$TLS_VERSION"
  [ -n "$cipher" ]
  assert_line "SSL_PROTOCOL=$version"
  assert_line "SSL_CIPHER=$cipher"
  assert_line "SSL_TLS_SNI_SERVERNAME=localhost"
  assert_line END
}

@test "tlsd: gnutls-cli (another TLS stack) connects and verifies" {
  command -v gnutls-cli >/dev/null || skip "gnutls-cli not installed (Debian gnutls-bin)"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'echo "hello over $SSL_PROTOCOL"'
  # gnutls-cli quits at its stdin's EOF, maybe before reading: hold stdin open until the reply is in
  mkfifo "$T/in"
  tagged timeout 20 gnutls-cli --x509cafile="$CERTS/ca.pem" --port="$PORT" localhost <"$T/in" >"$T/out" 2>&1 3>&- &
  pid=$!
  exec 5>"$T/in"
  wait_grep "hello over" "$T/out" 15 || true
  exec 5>&-
  wait "$pid" || true
  run cat "$T/out"
  assert_output --partial "hello over $TLS_VERSION"
  refute_output --partial "Verification output: The certificate is NOT trusted"
}

@test "protocol versions: a TLS 1.2-only client works; a TLS 1.3-only client works with libtls and is refused by BearSSL" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" "$SHOWENV"
  run tls_client --info --max 1.2
  assert_success
  assert_line "version=TLSv1.2"
  assert_line "SSL_PROTOCOL=TLSv1.2"
  run tls_client --info --min 1.3
  if [ "$UST_TLS" = bearssl ]; then
    assert_failure 3
    refute_line END
  else
    assert_success
    assert_line "version=TLSv1.3"
    assert_line "SSL_PROTOCOL=TLSv1.3"
  fi
}

# ------------------------------------------------------------------ certificates

@test "certificates: ECDSA P-256 and RSA-2048 server certificates are served as configured" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hi
  run tls_client --info
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
  start_server "${RSA[@]}" -- "$UST_BIN/tlsd" echo hi
  run tls_client --info
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-rsa.sha256")"
  assert_output --partial hi
  # and with TLS 1.2, where the suite names the key type
  run tls_client --info --max 1.2
  assert_success
  [[ "$(fact cipher)" == ECDHE-RSA-* ]]
}

@test "certificates: a chain file (leaf + intermediate) verifies against the root alone" {
  start_server CERTFILE="$CERTS/chain.pem" KEYFILE="$CERTS/chain-leaf.key" -- "$UST_BIN/tlsd" echo chained
  run tls_client --info
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/chain-leaf.sha256")"
  assert_output --partial chained
}

@test "certificates: DER certificate and DER key files" {
  start_server CERTFILE="$CERTS/server-ec.der" KEYFILE="$CERTS/server-ec.key.der" -- "$UST_BIN/tlsd" echo der
  run tls_client --info
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
  assert_output --partial der
}

# ------------------------------------------------------------------ SNI

@test "SNI: each name gets its certificate (exact, any case, wildcard), others the default; prog sees the name" {
  start_server "${SNI[@]}" -- "$UST_BIN/tlsd" "$SHOWENV"
  run tls_client --info --sni mail.example.org
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/mail.sha256")"
  assert_line "SSL_TLS_SNI_SERVERNAME=mail.example.org"
  run tls_client --info --sni other.example.org
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/other.sha256")"
  run tls_client --info --sni MAIL.Example.ORG
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/mail.sha256")"
  run tls_client --info --sni foo.example.net
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/wild.sha256")"
  assert_line "SSL_TLS_SNI_SERVERNAME=foo.example.net"
  # a wildcard covers one label only
  run tls_client --info --sni a.b.example.net --no-check-name
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
  run tls_client --info --sni unknown.example.com --no-check-name
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
  run tls_client --info --sni localhost
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
}

@test "SNI: -k 0 ignores the SNI pairs" {
  start_server "${SNI[@]}" -- "$UST_BIN/tlsd" -k 0 echo ok
  run tls_client --info --sni mail.example.org --no-check-name
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/server-ec.sha256")"
}

@test "SNI: -k 2 fails the handshake for a name with no pair, still serves the names it has" {
  start_server "${SNI[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/tlsd" -k 2 echo ok
  run tls_client --info --sni unknown.example.com --no-check-name
  assert_failure
  refute_output --partial ok
  assert_equal "$(rc_of "$T/rc")" 98
  rm -f "$T/rc"
  run tls_client --info --sni mail.example.org
  assert_success
  assert_equal "$(fact peer_sha256)" "$(cat "$CERTS/mail.sha256")"
  assert_output --partial ok
}

@test "SNI: a top-level wildcard (CERTFILE:*.org) is refused: exit 100" {
  engine_conf "${EC[@]}" "CERTFILE:*.org=$CERTS/mail.pem" "KEYFILE:*.org=$CERTS/mail.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  assert_output --partial "tlsd-io: "
}

@test "SNI: CERTFILE:name without KEYFILE:name is refused: exit 100" {
  engine_conf "${EC[@]}" "CERTFILE:mail.example.org=$CERTS/mail.pem" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
}

# ------------------------------------------------------------------ client certificates

@test "client certificates, -Y: presented, prog gets SSL_PEER_CERT_HASH and SSL_PEER_CERT_SUBJECT" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsd" -Y "$SHOWENV"
  run tls_client "${CLIENT[@]}"
  assert_success
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  assert_line --regexp '^SSL_PEER_CERT_SUBJECT=.*CN ?= ?UST Test Client'
}

@test "client certificates, -Y: not presented, the session works and prog has no SSL_PEER_CERT_*" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" SSL_PEER_CERT_HASH=SHA256:stale SSL_PEER_CERT_SUBJECT=/CN=stale -- \
    "$UST_BIN/tlsd" -Y "$SHOWENV"
  run tls_client
  assert_success
  assert_line END
  refute_output --partial SSL_PEER_CERT
}

@test "client certificates, -Y: a certificate from an unknown CA fails the handshake" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$SCRIPTS/rc.sh" "$T/rc" \
    "$UST_BIN/tlsd" -Y bash -c 'touch "$0"; exec "$1"' "$T/ran" "$SHOWENV"
  run tls_client --cert "$CERTS/client2.pem" --key "$CERTS/client2.key"
  refute_line END
  assert_equal "$(rc_of "$T/rc")" 98
  [ ! -e "$T/ran" ]
}

@test "client certificates, -y: without a certificate the handshake fails and prog never runs" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$SCRIPTS/rc.sh" "$T/rc" \
    "$UST_BIN/tlsd" -y bash -c 'touch "$0"; exec "$1"' "$T/ran" "$SHOWENV"
  run tls_client
  refute_line END
  assert_equal "$(rc_of "$T/rc")" 98
  [ ! -e "$T/ran" ]
}

@test "client certificates, -y: with a good certificate (CAFILE, then CADIR) the session works" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsd" -y "$SHOWENV"
  run tls_client "${CLIENT[@]}"
  assert_success
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  start_server "${EC[@]}" CADIR="$CERTS/cadir" -- "$UST_BIN/tlsd" -y "$SHOWENV"
  run tls_client "${CLIENT[@]}"
  assert_success
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  run tls_client --cert "$CERTS/client2.pem" --key "$CERTS/client2.key"
  refute_line END
}

@test "client certificates: -Y or -y without CAFILE/CADIR is a bad environment: exit 100" {
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" -Y 3 4
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" -y 3 4
  assert_failure 100
}

# ------------------------------------------------------------------ tlsc

@test "tlsc: against openssl s_server, verified; prog talks through 6/7 and sees the server's certificate" {
  start_s_server -cert "$CERTS/server-ec.pem" -key "$CERTS/server-ec.key" -rev
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -k localhost \
    bash -c '"$0"; printf "hello\n" | "$1" 6 7' "$SHOWENV" "$HB/pump"
  assert_success
  assert_line olleh
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/server-ec.sha256")"
  assert_line "SSL_TLS_SNI_SERVERNAME=localhost"
  assert_line --regexp '^SSL_PROTOCOL=TLSv1\.[23]$'
  refute_line --partial CAFILE=
}

@test "tlsc: session tickets and the server's first data in one read: the data is delivered at once" {
  # The server's tickets and "hello" reach the client's engine while it is
  # stopped, so that one read takes them all; the server then waits for an
  # answer, so nothing more arrives to wake a poll.
  [ "$TLS_VERSION" = TLSv1.3 ] || skip "TLS 1.2 (BearSSL): no records after the handshake; the client finishes last"
  "$PY" "$SCRIPTS/late-flight-server.py" "$CERTS/server-ec.pem" "$CERTS/server-ec.key" "$T" >"$T/server.out" 2>&1 &
  SERVER_PIDS+=("$!")
  wait_file "$T/server.out" 10
  PORT=$(head -n1 "$T/server.out")
  tagged timeout 15 tcpclient -R -H -l0 127.0.0.1 "$PORT" env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -k localhost \
    bash -c 'echo up >"$0/started"; read -r line <&6; echo "client got: $line"; echo bye >&7' "$T" >"$T/client.out" 2>&1 &
  wait_file "$T/started" 10
  engine=$(wait_pid_named tlsc-io 5)
  kill -STOP "$engine"
  touch "$T/go"
  wait_file "$T/sent" 10
  kill -CONT "$engine"
  wait_grep '^server got:' "$T/server.out" 10 || { cat "$T/client.out" "$T/server.out"; false; }
  run cat "$T/client.out" "$T/server.out"
  assert_line "client got: hello"
  assert_line "server got: bye"
}

@test "tlsc: a server certificate from another CA is rejected: exit 98, prog never runs" {
  start_s_server -cert "$CERTS/server-ec.pem" -key "$CERTS/server-ec.key" -rev
  run tcp_client env CAFILE="$CERTS/ca2.pem" "$UST_BIN/tlsc" -k localhost touch "$T/ran"
  assert_failure 98
  [ ! -e "$T/ran" ]
}

@test "tlsc: a server certificate for another name than -k is rejected: exit 98, prog never runs" {
  start_s_server -cert "$CERTS/server-ec.pem" -key "$CERTS/server-ec.key" -rev
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -k mail.example.org touch "$T/ran"
  assert_failure 98
  [ ! -e "$T/ran" ]
}

@test "tlsc: CADIR works as trust anchors; -k selects the SNI certificate on our tlsd" {
  start_server "${SNI[@]}" -- "$UST_BIN/tlsd" "$SHOWENV"
  run tcp_client env CADIR="$CERTS/cadir" "$UST_BIN/tlsc" -k mail.example.org \
    bash -c 'echo "client peer $SSL_PEER_CERT_HASH"; exec "$0" -k 6 7 </dev/null' "$HB/pump"
  assert_success
  assert_line "client peer $(cat "$CERTS/mail.sha256")"
  assert_line "SSL_TLS_SNI_SERVERNAME=mail.example.org"
}

@test "tlsc -y presents CERTFILE/KEYFILE to tlsd -y; tlsc without CAFILE, or -y without CERTFILE, exits 100" {
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsd" -y "$SHOWENV"
  run tcp_client env CAFILE="$CERTS/ca.pem" CERTFILE="$CERTS/client.pem" KEYFILE="$CERTS/client.key" \
    "$UST_BIN/tlsc" -y -k localhost "$HB/pump" -k 6 7 </dev/null
  assert_success
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -y -k localhost touch "$T/ran"
  assert_failure 100
  run tcp_client env -u CAFILE -u CADIR "$UST_BIN/tlsc" -k localhost touch "$T/ran"
  assert_failure 100
  [ ! -e "$T/ran" ]
}

# ------------------------------------------------------------------ configuration errors

@test "configuration: a broken key file is exit 96, with a message naming the file (tlsd-io, tlsd)" {
  engine_conf CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/broken.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 96
  assert_output --partial "broken.key"
  assert_output --regexp '^tlsd-io: [a-z]+: '
  engine_conf CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/broken.key" -- "$UST_BIN/tlsd" touch "$T/ran"
  assert_failure 96
  assert_output --partial "broken.key"
  [ ! -e "$T/ran" ]
}

@test "configuration: broken, truncated, empty and missing certificate files are exit 96, naming the file" {
  local f
  for f in broken.pem truncated.pem empty.pem no-such-cert.pem; do
    engine_conf CERTFILE="$CERTS/$f" KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/tlsd-io" 3 4
    echo "CERTFILE=$f: status $status: $output"
    assert_failure 96
    assert_output --partial "$f"
    refute_output --partial ': Success'   # no stale errno text after a library error
  done
  engine_conf CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/no-such-key.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 96
  assert_output --partial no-such-key.key
}

@test "configuration: a certificate with the wrong key is exit 96" {
  engine_conf CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-rsa.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 96
  assert_output --regexp 'server-ec\.pem|server-rsa\.key'
  engine_conf CERTFILE="$CERTS/server-rsa.pem" KEYFILE="$CERTS/mail.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 96
}

@test "configuration: an EC certificate with another P-256 key is exit 96, whatever form the key takes" {
  local k
  openssl ec -in "$CERTS/mail.key" -out "$T/mail.sec1.key" 2>/dev/null
  openssl ec -in "$CERTS/mail.key" -no_public -out "$T/mail.nopub.key" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$T/mail.nopub.key" -out "$T/mail.p8nopub.key"
  for k in "$CERTS/mail.key" "$T/mail.sec1.key" "$T/mail.nopub.key" "$T/mail.p8nopub.key"; do
    engine_conf CERTFILE="$CERTS/server-ec.pem" KEYFILE="$k" -- "$UST_BIN/tlsd-io" 3 4
    echo "KEYFILE=$k: status $status: $output"
    assert_failure 96
    assert_output --partial "$k"
  done
}

@test "configuration: an EC key as PKCS#8 or SEC1, PEM or DER, with or without its public key, serves its certificate" {
  local k
  for k in server-ec.key server-ec.key.der server-ec.sec1.key server-ec.nopub.key server-ec.p8nopub.key server-ec.nopub.der; do
    start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/$k" -- "$UST_BIN/tlsd" echo "served with $k"
    run s_client -servername localhost </dev/null
    echo "KEYFILE=$k: status $status: $output"
    assert_output --partial "Verification: OK"
    assert_output --partial "served with $k"
  done
}

@test "configuration: a broken SNI pair is exit 96, naming its file" {
  engine_conf "${EC[@]}" "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/broken.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 96
  assert_output --partial broken.key
}

@test "configuration: broken or missing CA files are exit 96 on the server (-Y, -y), naming the file" {
  engine_conf "${EC[@]}" CAFILE="$CERTS/broken.pem" -- "$UST_BIN/tlsd-io" -Y 3 4
  assert_failure 96
  assert_output --partial broken.pem
  engine_conf "${EC[@]}" CAFILE="$CERTS/no-such-ca.pem" -- "$UST_BIN/tlsd-io" -y 3 4
  assert_failure 96
  assert_output --partial no-such-ca.pem
}

@test "configuration: broken, empty or missing CA files (and a broken client key) are exit 96 on the client, naming the file" {
  engine_conf CAFILE="$CERTS/broken.pem" -- "$UST_BIN/tlsc-io" -k localhost 3 4
  assert_failure 96
  assert_output --partial broken.pem
  engine_conf CAFILE="$CERTS/empty.pem" -- "$UST_BIN/tlsc-io" -k localhost 3 4
  assert_failure 96
  assert_output --partial empty.pem
  engine_conf CADIR="$CERTS/no-such-dir" -- "$UST_BIN/tlsc-io" -k localhost 3 4
  assert_failure 96
  assert_output --partial no-such-dir
  engine_conf CAFILE="$CERTS/ca.pem" CERTFILE="$CERTS/client.pem" KEYFILE="$CERTS/broken.key" -- "$UST_BIN/tlsc-io" -y -k localhost 3 4
  assert_failure 96
  assert_output --partial broken.key
}

@test "environment: CERTFILE without KEYFILE (and the reverse, and no certificate) is exit 100" {
  engine_conf CERTFILE="$CERTS/server-ec.pem" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  assert_output --partial KEYFILE
  engine_conf KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  assert_output --partial CERTFILE
  engine_conf -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  engine_conf CERTFILE="$CERTS/server-ec.pem" -- "$UST_BIN/tlsd" touch "$T/ran"
  assert_failure 100
  [ ! -e "$T/ran" ]
}

@test "environment: TLS_UID/TLS_GID that are not numbers, or TLS_UID without TLS_GID, are exit 100" {
  engine_conf "${EC[@]}" TLS_UID=nobody -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  engine_conf "${EC[@]}" TLS_GID=-1 -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  # setuid alone would keep gid 0 and root's supplementary groups
  engine_conf "${EC[@]}" TLS_UID=65534 -- "$UST_BIN/tlsd-io" 3 4
  assert_failure 100
  assert_output --partial "TLS_UID is set but TLS_GID is not"
}

@test "usage errors are exit 100: unknown option, bad numbers, wrong arguments, no prog" {
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" -X 3 4
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" 3
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" -K soon 3 4
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd-io" -t -5 3 4
  assert_failure 100
  engine_conf CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsc-io" -6 x 3 4
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd"
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd" -X true
  assert_failure 100
  engine_conf CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsc" -k localhost
  assert_failure 100
  # a descriptor number past the kernel's ceiling (4294967295 was -1, exit 111)
  engine_conf CAFILE="$CERTS/ca.pem" -- "$UST_BIN/tlsc" -6 4294967295 true
  assert_failure 100
  engine_conf CAFILE="$CERTS/ca.pem" -- "$UST_BIN/ucspitlsc" -7 1048577 true
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd" -g soon true
  assert_failure 100
  engine_conf "${EC[@]}" -- "$UST_BIN/tlsd" -k many true
  assert_failure 100
}

# ------------------------------------------------------------------ environment of prog

@test "tlsd -z (default) strips the TLS variables and stale SSL_* facts from prog's environment" {
  start_server "${SNI[@]}" CAFILE="$CERTS/ca.pem" CADIR="$CERTS/cadir" TLS_UID=0 TLS_GID=0 \
    SSL_PEER_CERT_HASH=SHA256:stale SSLCTLFD=9 -- "$UST_BIN/tlsd" "$SHOWENV"
  run tls_client
  assert_success
  assert_line "SSL_PROTOCOL=$TLS_VERSION"
  assert_line END
  refute_output --regexp '(^|\n)(CERTFILE|KEYFILE|CAFILE|CADIR|TLS_UID|TLS_GID)[=:]'
  refute_output --partial stale
  refute_output --partial SSLCTLFD
}

@test "tlsd -Z keeps the TLS variables (SNI ones too) but still drops stale SSL_* facts" {
  start_server "${SNI[@]}" CAFILE="$CERTS/ca.pem" TLS_UID=0 TLS_GID=0 SSL_PEER_CERT_HASH=SHA256:stale -- \
    "$UST_BIN/tlsd" -Z "$SHOWENV"
  run tls_client
  assert_success
  assert_line "CERTFILE=$CERTS/server-ec.pem"
  assert_line "KEYFILE=$CERTS/server-ec.key"
  assert_line "CAFILE=$CERTS/ca.pem"
  assert_line "TLS_UID=0"
  assert_line "CERTFILE:mail.example.org=$CERTS/mail.pem"
  assert_line "KEYFILE:*.example.net=$CERTS/wild.key"
  refute_output --partial stale
}

@test "TLS_UID/TLS_GID: the engine drops to them after reading root-only keys; prog keeps its own uid" {
  [ "$(id -u)" = 0 ] || skip "needs root"
  [ "$(stat -c %a "$CERTS/server-ec.key")" = 600 ]
  start_server "${EC[@]}" TLS_UID=65534 TLS_GID=65534 -- "$UST_BIN/tlsd" bash -c '
    for p in $(cat /proc/$$/task/$$/children); do
      [ "$(cat /proc/$p/comm)" = tlsd-io ] && grep -E "^(Uid|Gid|Groups):" /proc/$p/status
    done
    echo "prog uid $(id -u)"'
  run tls_client
  assert_success
  assert_line --regexp '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$'
  assert_line --regexp '^Gid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$'
  assert_line --regexp '^Groups:[[:space:]]*65534[[:space:]]*$'
  assert_line "prog uid 0"
}

# ------------------------------------------------------------------ the engines directly

@test "tlsd-io and tlsc-io talk directly (files as the application); both write a well-formed -d info block" {
  printf 'from the server\n' > "$T/s.in"
  printf 'from the client\n' > "$T/c.in"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/s.rc" \
    bash -c 'exec "$0" -s -d 5 3 4 3<"$1" 4>"$2" 5>"$3"' "$UST_BIN/tlsd-io" "$T/s.in" "$T/s.out" "$T/s.notif"
  run tcp_client env CAFILE="$CERTS/ca.pem" \
    bash -c 'exec "$0" -k localhost -d 5 3 4 3<"$1" 4>"$2" 5>"$3"' "$UST_BIN/tlsc-io" "$T/c.in" "$T/c.out" "$T/c.notif"
  assert_success
  assert_equal "$(rc_of "$T/s.rc")" 0
  cmp "$T/c.in" "$T/s.out"
  cmp "$T/s.in" "$T/c.out"
  # NAME=value\0 entries, then one more \0; never a bare NAME
  for side in s c; do
    [ "$(tail -c 2 "$T/$side.notif" | od -An -tx1 | tr -d ' \n')" = 0000 ]
    run bash -c 'tr "\0" "\n" < "$0" | sed "\$d"' "$T/$side.notif"
    [ -n "$output" ]
    if grep -v = <<<"$output"; then false; fi
    assert_line "SSL_PROTOCOL=$TLS_VERSION"
    assert_line --regexp '^SSL_CIPHER=.+'
    assert_line "SSL_TLS_SNI_SERVERNAME=localhost"
  done
  run bash -c 'tr "\0" "\n" < "$0"' "$T/c.notif"
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/server-ec.sha256")"
  run bash -c 'tr "\0" "\n" < "$0"' "$T/s.notif"
  refute_line --partial SSL_PEER_CERT_HASH
}

@test "tlsd-io -d: with a client certificate the block has SSL_PEER_CERT_HASH and SSL_PEER_CERT_SUBJECT" {
  printf 'x\n' > "$T/s.in"
  start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" -- "$SCRIPTS/rc.sh" "$T/s.rc" \
    bash -c 'exec "$0" -Y -d 5 3 4 3<"$1" 4>/dev/null 5>"$2"' "$UST_BIN/tlsd-io" "$T/s.in" "$T/s.notif"
  run tls_client "${CLIENT[@]}" --shut tcp
  assert_success
  assert_equal "$(rc_of "$T/s.rc")" 0
  run bash -c 'tr "\0" "\n" < "$0"' "$T/s.notif"
  assert_line "SSL_PEER_CERT_HASH=$(cat "$CERTS/client.sha256")"
  assert_line --regexp '^SSL_PEER_CERT_SUBJECT=.*UST Test Client'
}

@test "O_NONBLOCK: tlsd-io works with non-blocking network and application descriptors" {
  head -c 300000 /dev/urandom > "$T/s.in"
  head -c 200000 /dev/urandom > "$T/c.in"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/s.rc" \
    "$SCRIPTS/engine-pipes.sh" nb:0,1,3,4 "$T/s.in" "$T/s.out" "$UST_BIN/tlsd-io" -s
  run tls_client --send-file "$T/c.in" --duplex --out "$T/c.out"
  assert_success
  assert_equal "$(rc_of "$T/s.rc")" 0
  wait_file "$T/s.out.done"
  cmp "$T/s.in" "$T/c.out"
  cmp "$T/c.in" "$T/s.out"
}

@test "O_NONBLOCK: tlsc-io works with non-blocking network and application descriptors" {
  head -c 300000 /dev/urandom > "$T/c.in"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" cat
  run tcp_client env CAFILE="$CERTS/ca.pem" \
    "$SCRIPTS/engine-pipes.sh" nb:3,4,6,7 "$T/c.in" "$T/c.out" "$UST_BIN/tlsc-io" -k localhost
  assert_success
  wait_file "$T/c.out.done"
  cmp "$T/c.in" "$T/c.out"
}

@test "O_NONBLOCK: tlsd started on a non-blocking socket (a careless parent) still handshakes and relays" {
  big=$(data_file dup1m 1000000)
  start_server "${EC[@]}" -- "$HB/setnb" 0 1 -- "$UST_BIN/tlsd" cat
  run tls_client --send-file "$big" --duplex --expect-file "$big" --out /dev/null
  assert_success
}

# ------------------------------------------------------------------ data integrity

@test "no byte lost: prog writes 100 KB and exits at once; python reads it all, 30 sessions" {
  big=$(data_file r100k 102400)
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" cat "$big"
  run tls_client --expect-file "$big" --repeat 30 --info
  assert_success
  assert_line failures=0
}

@test "no byte lost: prog writes one line and exits at once; python, 200 sessions" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hello
  run tls_client --expect 'hello\n' --repeat 200 --info
  assert_success
  assert_line failures=0
}

@test "no byte lost: prog writes one line and exits at once; tlsc via tcpclient, 1000 sessions" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hello
  # half with the client holding its write side open until the reply's EOF, half closing it at once
  run tagged timeout 600 env CAFILE="$CERTS/ca.pem" "$PY" "$SCRIPTS/loop.py" -n 500 -e 'hello\n' -- \
    tcpclient -R -H -l0 127.0.0.1 "$PORT" "$UST_BIN/tlsc" -k localhost "$HB/pump" -k 6 7 </dev/null
  echo "$output"
  assert_success
  run tagged timeout 600 env CAFILE="$CERTS/ca.pem" "$PY" "$SCRIPTS/loop.py" -n 500 -e 'hello\n' -- \
    tcpclient -R -H -l0 127.0.0.1 "$PORT" "$UST_BIN/tlsc" -k localhost "$HB/pump" 6 7 </dev/null
  echo "$output"
  assert_success
}

@test "no byte lost: prog writes 100 KB and exits at once; tlsc via tcpclient, 30 sessions" {
  big=$(data_file r100k 102400)
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" cat "$big"
  run tagged timeout 300 env CAFILE="$CERTS/ca.pem" "$PY" "$SCRIPTS/loop.py" -n 30 -f "$big" -- \
    tcpclient -R -H -l0 127.0.0.1 "$PORT" "$UST_BIN/tlsc" -k localhost "$HB/pump" -k 6 7 </dev/null
  echo "$output"
  assert_success
}

@test "full duplex: 8 MB each way at the same time, checksummed (python client)" {
  big=$(data_file d8m 8388608)
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" cat
  run tls_client --send-file "$big" --duplex --info --out /dev/null
  assert_success
  assert_line "bytes=8388608"
  assert_line "sha256=$(sha256_of "$big")"
}

@test "full duplex: 8 MB each way at the same time, checksummed (tlsc to tlsd)" {
  big=$(data_file d8m 8388608)
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" cat
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -v 0 -k localhost "$HB/pump" -c 6 7 <"$big"
  assert_success
  assert_output "bytes=8388608 sha256=$(sha256_of "$big")"
}

# ------------------------------------------------------------------ closing

@test "half-close: the client shuts its write side, prog sees EOF and still answers (python, TCP half-close)" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'n=$(wc -c); echo "got $n bytes"'
  run tls_client --send 'hello\n' --shut tcp
  assert_success
  assert_output "got 6 bytes"
}

@test "half-close: the client sends close_notify; prog sees EOF and still answers (both backends)" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'n=$(wc -c); echo "$n" > "$0"; echo "got $n bytes"' "$T/seen"
  run tls_client --send 'hello\n' --shut notify
  wait_file "$T/seen"
  assert_equal "$(cat "$T/seen")" 6
  assert_success
  assert_output "got 6 bytes"
}

@test "half-close: tlsc's prog closes its write side, the server's prog sees EOF and still answers" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" bash -c 'n=$(wc -c); echo "got $n bytes"'
  run tcp_client env CAFILE="$CERTS/ca.pem" bash -c 'printf "hello\n" | "$0" -v 0 -k localhost "$1" 6 7' "$UST_BIN/tlsc" "$HB/pump"
  assert_success
  assert_output "got 6 bytes"
}

@test "half-close: prog closes its output first, then still reads what the client sends (-s)" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -s bash -c 'echo early; exec >&-; n=$(wc -c); echo "$n" > "$0"' "$T/seen"
  run tls_client --send 'twelve bytes' --shut tcp
  assert_success
  assert_output early
  wait_file "$T/seen"
  assert_equal "$(cat "$T/seen")" 12
}

@test "-S (default): local EOF sends close_notify; -s: a bare TCP half-close" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -S echo hi
  run tls_client --info
  assert_success
  assert_line eof=clean
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hi
  run tls_client --info
  assert_success
  assert_line eof=clean
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -s echo hi
  run tls_client --info
  assert_success
  assert_line eof=unclean
}

@test "-J: a peer EOF without close_notify is an error (98); with close_notify, or with -j (default), exit 0" {
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" -J 3 4 3<>"$1" 4>/dev/null' "$UST_BIN/tlsd-io" "$T/fifo"
  mkfifo "$T/fifo"
  run tls_client --send 'x' --shut close
  assert_equal "$(rc_of "$T/rc")" 98
  rm -f "$T/rc"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" -J 3 4 3</dev/null 4>/dev/null' "$UST_BIN/tlsd-io"
  run tls_client --send 'x' --shut notify
  assert_equal "$(rc_of "$T/rc")" 0
  rm -f "$T/rc"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" 3 4 3</dev/null 4>/dev/null' "$UST_BIN/tlsd-io"
  run tls_client --send 'x' --shut tcp
  assert_equal "$(rc_of "$T/rc")" 0
}

# ------------------------------------------------------------------ deadlines

@test "handshake timeout: -K 500 and a client that sends nothing: the engine exits 98 within ~0.5 s" {
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" -K 500 3 4 3</dev/null 4>/dev/null' "$UST_BIN/tlsd-io"
  run tls_client --hold
  assert_success
  t=$(fact eof_after)
  echo "connection closed after $t s"
  python3 -c "import sys; sys.exit(not (0.3 <= $t <= 2.5))"
  assert_equal "$(rc_of "$T/rc")" 98
  grep -E '^tlsd-io: [a-z]+: ' "$SERVER_LOG"
  wait_sessions_gone 5
}

@test "handshake timeout through tlsd -K 500: tlsd exits 98, prog never runs" {
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" "$UST_BIN/tlsd" -K 500 touch "$T/ran"
  run tls_client --hold
  assert_success
  t=$(fact eof_after)
  python3 -c "import sys; sys.exit(not (0.3 <= $t <= 2.5))"
  assert_equal "$(rc_of "$T/rc")" 98
  [ ! -e "$T/ran" ]
  wait_sessions_gone 5
}

@test "handshake timeout on the client side: tlsc -K 500 against a server that never answers: 98, prog never runs" {
  start_server -- cat
  t0=$(date +%s%N)
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -K 500 -k localhost touch "$T/ran"
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "tlsc ended after $t ms"
  assert_failure 98
  [ "$t" -ge 300 ] && [ "$t" -le 2500 ]
  [ ! -e "$T/ran" ]
}

@test "idle timeout: -t 500 and a silent peer after the handshake: the engine exits 99" {
  mkfifo "$T/fifo"
  start_server "${EC[@]}" -- "$SCRIPTS/rc.sh" "$T/rc" \
    bash -c 'exec "$0" -t 500 3 4 3<>"$1" 4>/dev/null' "$UST_BIN/tlsd-io" "$T/fifo"
  run tls_client --idle
  assert_success
  t=$(fact eof_after)
  echo "connection closed after $t s"
  python3 -c "import sys; sys.exit(not (0.3 <= $t <= 2.5))"
  assert_equal "$(rc_of "$T/rc")" 99
}

@test "session lifetime: -L 1500 (no -t) ends a session whose traffic never stops: exit 99, logged" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -t 0 -L 1500 cat
  # 100 lines, 0.1 s apart: 10 s of traffic that never lets the session idle
  run tls_client --trickle 100:0.1 --shut tcp
  echo "$output"
  assert_failure
  wait_grep '^tlsd-io: warning: the session lifetime -L ran out: closing$' "$SERVER_LOG" 10
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: tls .*: the session lifetime -L ran out; bytes in [1-9][0-9]*, out [1-9][0-9]*; exit code 99$' "$SERVER_LOG" 10
  wait_sessions_gone 10
}

@test "idle timeout: traffic resets the -t deadline (8 lines, 0.3 s apart, under -t 1500)" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -t 1500 cat
  run tls_client --trickle 8:0.3 --shut tcp
  assert_success
  assert_line "line 0"
  assert_line "line 7"
}

# ------------------------------------------------------------------ logging

@test "logging: -v 1 logs one 'session ended' line per session at its end, with the address, TLS, how it ended, bytes; -v 2 adds 'tls established'; -v 0 none" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -v 1 echo hi
  run tls_client
  run tls_client
  assert_success
  wait_sessions_gone 5
  run grep -c '^tlsd-io: info: ' "$SERVER_LOG"
  assert_output 2
  grep -qE "^tlsd-io: info: 127\.0\.0\.1: session ended: tls $TLS_VERSION [^ ]+( sni=localhost)?: the application ended first; bytes in [0-9]+, out 3\$" "$SERVER_LOG"
  : > "$SERVER_LOG"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -v 2 echo hi
  run tls_client
  assert_success
  wait_sessions_gone 5
  grep -q "^tlsd-io: info: tls established with 127\.0\.0\.1: $TLS_VERSION" "$SERVER_LOG"
  grep -q "^tlsd-io: info: 127\.0\.0\.1: session ended: tls $TLS_VERSION" "$SERVER_LOG"
  # a failed handshake: its one line says so, with the exit code
  : > "$SERVER_LOG"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -v 1 echo hi
  printf 'not a ClientHello\r\n' | tagged timeout 10 tcpclient -R -H -l0 127.0.0.1 "$PORT" sh -c 'cat >&7; cat <&6 >/dev/null' >/dev/null 2>&1 || true
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: no TLS session \(the handshake failed\); exit code 98$' "$SERVER_LOG" 10
  : > "$SERVER_LOG"
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" -v 0 echo hi
  run tls_client
  assert_success
  wait_sessions_gone 5
  run cat "$SERVER_LOG"
  assert_output ""
}

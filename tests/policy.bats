#!/usr/bin/env bats
# policy.bats: TLS_PROTOCOLS and TLS_CIPHERS (issue 18 item 1), the same
# variables and meaning on both backends: real clients (openssl s_client,
# gnutls-cli) offering only what the policy allows are served, offering only
# what it refuses are refused; bad values exit 100 at start; the variables
# never reach the application.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
}

teardown() {
  ust_teardown
}

# offer ARGS...: one immediate-TLS session with openssl s_client; "hi" read.
offer() {
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$CERTS/ca.pem" -verify_return_error -brief -ign_eof "$@" </dev/null
  echo "$output"
}

CBC=ECDHE-ECDSA-AES128-SHA
GCM=ECDHE-ECDSA-AES128-GCM-SHA256

@test "TLS_CIPHERS=strict: a client offering only CBC suites is refused, AEAD is served (TLS 1.2)" {
  start_server "${EC[@]}" TLS_CIPHERS=strict -- "$UST_BIN/tlsd" echo hi
  offer -tls1_2 -cipher "$CBC"
  assert_failure
  refute_line hi
  offer -tls1_2 -cipher "$CBC:$GCM"
  assert_success
  assert_line hi
  assert_output --partial "Ciphersuite: $GCM"
  offer -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
  assert_success
  assert_line hi
}

@test "TLS_CIPHERS: the default (compat) and compat serve an ECDHE CBC suite to an old client" {
  for v in "" compat COMPAT default; do
    start_server "${EC[@]}" TLS_CIPHERS="$v" -- "$UST_BIN/tlsd" echo hi
    offer -tls1_2 -cipher "$CBC"
    assert_success
    assert_line hi
    assert_output --partial "Ciphersuite: $CBC"
  done
}

@test "TLS_CIPHERS: neither policy serves a suite without forward secrecy (static RSA)" {
  start_server CERTFILE="$CERTS/server-rsa.pem" KEYFILE="$CERTS/server-rsa.key" -- "$UST_BIN/tlsd" echo hi
  offer -tls1_2 -cipher AES128-GCM-SHA256:AES128-SHA
  assert_failure
  refute_line hi
  offer -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
  assert_success
  assert_line hi
}

@test "TLS_CIPHERS=strict: gnutls-cli offering CBC only is refused, GCM is served" {
  command -v gnutls-cli >/dev/null || skip "gnutls-cli not installed (Debian gnutls-bin)"
  start_server "${EC[@]}" TLS_CIPHERS=strict -- "$UST_BIN/tlsd" echo hi
  run tagged timeout 20 gnutls-cli --x509cafile "$CERTS/ca.pem" -p "$PORT" localhost \
    --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC' </dev/null
  echo "$output"
  assert_failure
  refute_line hi
  run tagged timeout 20 gnutls-cli --x509cafile "$CERTS/ca.pem" -p "$PORT" localhost \
    --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM' </dev/null
  echo "$output"
  assert_success
  assert_line hi
}

@test "TLS_PROTOCOLS=tlsv1.2: a TLS 1.3-only client is refused, TLS 1.2 is served" {
  start_server "${EC[@]}" TLS_PROTOCOLS=tlsv1.2 -- "$UST_BIN/tlsd" echo hi
  offer -tls1_3
  assert_failure
  refute_line hi
  offer -tls1_2
  assert_success
  assert_output --partial "Protocol version: TLSv1.2"
  assert_line hi
}

@test "TLS_PROTOCOLS=tlsv1.3: libtls serves TLS 1.3 only; BearSSL (no TLS 1.3) exits 100 with the reason" {
  start_server "${EC[@]}" TLS_PROTOCOLS=tlsv1.3 -- "$UST_BIN/tlsd" echo hi
  if [ "$UST_TLS" = libtls ]; then
    offer -tls1_2
    assert_failure
    refute_line hi
    offer -tls1_3
    assert_success
    assert_output --partial "Protocol version: TLSv1.3"
    assert_line hi
  else
    offer
    assert_failure
    refute_line hi
    wait_grep 'TLS_PROTOCOLS: this build.s TLS library, BearSSL, has no TLS 1.3' "$SERVER_LOG" 10
  fi
}

@test "TLS_PROTOCOLS: a list of both is the default; STARTTLS under ucspitlsd follows the same policy" {
  start_server "${EC[@]}" TLS_PROTOCOLS="tlsv1.2:tlsv1.3" -- "$UST_BIN/tlsd" echo hi
  offer
  assert_success
  assert_output --partial "Protocol version: $TLS_VERSION"
  start_server "${EC[@]}" TLS_CIPHERS=strict -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -CAfile "$CERTS/ca.pem" \
    -verify_return_error -brief -tls1_2 -cipher "$CBC" <<<$'QUIT\r'
  echo "$output"
  assert_failure
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -CAfile "$CERTS/ca.pem" \
    -verify_return_error -brief -tls1_2 -cipher "$GCM" <<<$'QUIT\r'
  echo "$output"
  assert_success
  assert_output --partial "Ciphersuite: $GCM"
}

@test "TLS_CIPHERS=strict on the client side: tlsc refuses a server that offers CBC only" {
  start_s_server -cert "$CERTS/server-ec.pem" -key "$CERTS/server-ec.key" -rev -tls1_2 -cipher "$CBC"
  run tcp_client env CAFILE="$CERTS/ca.pem" TLS_CIPHERS=strict "$UST_BIN/tlsc" -k localhost -- sh -c 'echo hello >&7; head -n1 <&6'
  echo "$output"
  assert_failure 98
  refute_line olleh
  start_s_server -cert "$CERTS/server-ec.pem" -key "$CERTS/server-ec.key" -rev -tls1_2 -cipher "$CBC"
  run tcp_client env CAFILE="$CERTS/ca.pem" "$UST_BIN/tlsc" -k localhost -- sh -c 'echo hello >&7; head -n1 <&6'
  echo "$output"
  assert_success
  assert_line olleh
}

@test "TLS_PROTOCOLS and TLS_CIPHERS: bad values exit 100 at start, for the engines, tlsd and the controllers" {
  for bad in TLS_PROTOCOLS=tlsv1.1 TLS_PROTOCOLS=tlsv1 TLS_PROTOCOLS=sslv3 TLS_PROTOCOLS=, TLS_CIPHERS=medium 'TLS_CIPHERS=HIGH:!aNULL'; do
    run tagged timeout 10 env "${EC[@]}" "$bad" "$UST_BIN/tlsd-io" 0 1 </dev/null
    assert_failure 100
    assert_output --partial "bad TLS environment: ${bad%%=*}"
    run tagged timeout 10 env "${EC[@]}" "$bad" "$UST_BIN/tlsd" true </dev/null
    assert_failure 100
    # the controllers check the policy at start, not at the first STARTTLS
    run tagged timeout 10 env "${EC[@]}" "$bad" "$UST_BIN/ucspitlsd" true </dev/null
    assert_failure 100
    assert_output --partial "bad TLS environment: ${bad%%=*}"
    run tagged timeout 10 env CAFILE="$CERTS/ca.pem" "$bad" "$UST_BIN/ucspitlsc" true </dev/null
    assert_failure 100
  done
  run tagged timeout 10 env "${EC[@]}" TLS_CIPHERS=medium "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
}

@test "TLS_PROTOCOLS and TLS_CIPHERS are TLS configuration: the application does not see them (unless -Z)" {
  start_server "${EC[@]}" TLS_CIPHERS=strict TLS_PROTOCOLS=tlsv1.2 -- "$UST_BIN/tlsd" sh -c 'echo "vars:${TLS_CIPHERS-unset}:${TLS_PROTOCOLS-unset}"'
  offer
  assert_success
  assert_line vars:unset:unset
  start_server "${EC[@]}" TLS_CIPHERS=strict -- "$UST_BIN/tlsd" -Z sh -c 'echo "vars:${TLS_CIPHERS-unset}"'
  offer
  assert_success
  assert_line vars:strict
}

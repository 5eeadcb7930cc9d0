#!/usr/bin/env bats
# ocsp.bats: OCSP stapling (issue 18 item 3). libtls staples OCSPFILE (and
# OCSPFILE:name with its SNI pair), read per connection like the
# certificate; a staple that cannot be used is left out with a warning.
# BearSSL cannot staple: OCSPFILE makes its engine exit 100 with the reason.

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  MKOCSP=$SCRIPTS/mkocsp.sh
}

teardown() {
  ust_teardown
}

# status [s_client options...]: one session asking for the certificate status.
status() {
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" \
    -verify_return_error -ign_eof -status "$@" </dev/null
  echo "$output"
}

libtls_only() {
  [ "$UST_TLS" = libtls ] || skip "OCSP stapling: libtls backend only (BearSSL cannot staple; see the BearSSL test)"
}

@test "OCSP: libtls staples OCSPFILE to a client that asks for it, and to no other" {
  libtls_only
  "$MKOCSP" "$CERTS" server-ec good "$T/good.der"
  start_server "${EC[@]}" OCSPFILE="$T/good.der" -- "$UST_BIN/tlsd" echo hi
  status -servername localhost
  assert_success
  assert_output --partial 'OCSP Response Status: successful'
  assert_output --partial 'Cert Status: good'
  assert_output --partial "Serial Number: $(openssl x509 -in "$CERTS/server-ec.pem" -noout -serial | cut -d= -f2)"
  assert_line hi
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" -verify_return_error </dev/null
  refute_output --partial 'OCSP Response Status'
}

@test "OCSP: the file is read per connection: a new response is stapled from the next session on" {
  libtls_only
  "$MKOCSP" "$CERTS" server-ec good "$T/staple.der"
  start_server "${EC[@]}" OCSPFILE="$T/staple.der" -- "$UST_BIN/tlsd" echo hi
  status
  assert_output --partial 'Cert Status: good'
  "$MKOCSP" "$CERTS" server-ec revoked "$T/staple.new" && mv "$T/staple.new" "$T/staple.der"
  status
  assert_output --partial 'Cert Status: revoked'
}

@test "OCSP: OCSPFILE:name goes with its SNI pair" {
  libtls_only
  "$MKOCSP" "$CERTS" server-ec good "$T/default.der"
  "$MKOCSP" "$CERTS" mail revoked "$T/mail.der"
  start_server "${EC[@]}" OCSPFILE="$T/default.der" \
    "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" "OCSPFILE:mail.example.org=$T/mail.der" \
    -- "$UST_BIN/tlsd" echo hi
  status -servername mail.example.org
  assert_success
  assert_output --partial 'Cert Status: revoked'
  assert_output --partial "Serial Number: $(openssl x509 -in "$CERTS/mail.pem" -noout -serial | cut -d= -f2)"
  status -servername localhost
  assert_output --partial 'Cert Status: good'
}

@test "OCSP: a missing or broken OCSPFILE is a warning: the session runs, nothing is stapled" {
  libtls_only
  printf 'not der' > "$T/broken.der"
  for f in "$T/missing.der" "$T/broken.der"; do
    start_server "${EC[@]}" OCSPFILE="$f" -- "$UST_BIN/tlsd" echo hi
    status
    assert_success
    assert_line hi
    assert_output --partial 'OCSP response: no response sent'
    wait_grep "^tlsd-io: warning: OCSPFILE $f: .*: no OCSP response stapled$" "$SERVER_LOG" 10
  done
}

@test "OCSP: BearSSL cannot staple: OCSPFILE makes the engine exit 100 with the reason" {
  [ "$UST_TLS" = bearssl ] || skip "BearSSL only"
  "$MKOCSP" "$CERTS" server-ec good "$T/good.der"
  run tagged timeout 10 env "${EC[@]}" OCSPFILE="$T/good.der" "$UST_BIN/tlsd-io" 0 1 </dev/null
  assert_failure 100
  assert_output --partial 'OCSPFILE: this build'"'"'s TLS library, BearSSL, cannot staple OCSP responses'
}

@test "OCSP: OCSPFILE without CERTFILE is a bad environment (exit 100); the application never sees OCSPFILE" {
  run tagged timeout 10 env CERTFILE:mail.example.org="$CERTS/mail.pem" KEYFILE:mail.example.org="$CERTS/mail.key" OCSPFILE="$T/x.der" "$UST_BIN/tlsd-io" 0 1 </dev/null
  assert_failure 100
  assert_output --partial 'OCSPFILE is set but CERTFILE is not'
  libtls_only
  "$MKOCSP" "$CERTS" server-ec good "$T/good.der"
  start_server "${EC[@]}" OCSPFILE="$T/good.der" -- "$UST_BIN/tlsd" sh -c 'echo "ocsp:${OCSPFILE-unset}"'
  status
  assert_line ocsp:unset
}

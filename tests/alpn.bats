#!/usr/bin/env bats
# alpn.bats: ALPACA (cross-protocol attacks, RFC 7301 3.2): a client that
# offers ALPN only for other protocols (a browser's http/1.1, h2) is refused
# with a fatal no_application_protocol alert before any application byte;
# a mail id is selected; no ALPN at all is fine. Both backends, immediate
# TLS and STARTTLS (the same engine).

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
}
teardown() { ust_teardown ; }

# s_client ARGS...: one TLS session to $PORT, "hi" read, its output and status
s_client() {
  tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$CERTS/ca.pem" -verify_return_error "$@" </dev/null 2>&1
}

@test "ALPN: http/1.1 and h2 only are refused with no_application_protocol; the program never runs" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" sh -c 'touch "$0"; echo hi' "$T/ran"
  run s_client -ign_eof -alpn http/1.1,h2
  echo "$output"
  assert_failure
  assert_output --partial "no application protocol"
  refute_output --partial "hi"
  wait_grep '^tlsd-io: info: 127\.0\.0\.1: session ended: no TLS session \(the handshake failed\); exit code 98$' "$SERVER_LOG" 10
  [ ! -e "$T/ran" ]
}

@test "ALPN: a mail id is selected (alone, or among others); no ALPN: none negotiated, the session runs" {
  start_server "${EC[@]}" -- "$UST_BIN/tlsd" echo hi
  for offer in imap smtp pop3 managesieve "h2,imap"; do
    run s_client -ign_eof -alpn "$offer"
    echo "$offer: $output"
    assert_success
    assert_output --partial "ALPN protocol: ${offer#h2,}"
    assert_line hi
  done
  run s_client -ign_eof
  assert_success
  assert_output --partial "No ALPN negotiated"
  assert_line hi
}

@test "ALPN: the same after STARTTLS (ucspitlsd + smtpd-starttls): http/1.1 refused, smtp selected" {
  proxy_server smtpd-starttls fake-smtpd.py
  run s_client -starttls smtp -alpn http/1.1
  echo "$output"
  assert_failure
  assert_output --partial "no application protocol"
  run s_client -starttls smtp -alpn smtp
  echo "$output"
  assert_success
  assert_output --partial "ALPN protocol: smtp"
}

#!/usr/bin/env bats
# pop3.bats: pop3d-starttls under tcpserver + ucspitlsd, with a recording fake
# backend for exact assertions and real clients.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
}

teardown() {
  ust_teardown
}

pop3_server() {
  proxy_server pop3d-starttls fake-pop3d.py "$@"
}

@test "pop3: the greeting passes untouched (APOP banner); CAPA lists STLS once, the backend's removed" {
  pop3_server
  run py '
g = c.line(); assert g == "+OK fake POP3 ready <1896.697170952@fake.test>\r\n", g
c.send("CAPA\r\n"); r = multiline(c); print(r, end="")
assert r == "+OK capabilities\r\nUSER\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n", r
c.send("QUIT\r\n"); c.line()'
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "pop3: a backend without CAPA still gets a CAPA answer listing STLS" {
  FAKE_MODE=nocapa pop3_server
  run py '
c.line()
c.send("CAPA\r\n"); print(multiline(c), end="")
c.send("QUIT\r\n"); c.line()'
  [ "$status" -eq 0 ]
  [[ "$output" == "+OK Capability list follows"*"STLS"*"."* ]]
}

@test "pop3: a CAPA reply too long to hold (2 MB) ends the session with -ERR, never grows the proxy's memory" {
  FAKE_MODE=hugecapa pop3_server
  run py '
c.line()
c.send("CAPA\r\n"); print(c.line(), end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = $'-ERR Backend error, closing connection\r' ]
}

@test "pop3: STLS session: +OK is the last cleartext byte; RETR inside TLS arrives byte-exact, dot-stuffing untouched" {
  pop3_server
  run py '
c.line()
c.send("STLS\r\n"); r = c.line(); assert r == "+OK Begin TLS negotiation\r\n", r
assert c.buf == b""
print(c.starttls(CA))
c.send("CAPA\r\n"); r = multiline(c); assert "STLS" not in r, r
c.send("USER u\r\nPASS p\r\nLIST\r\nRETR 1\r\n")
c.line(); c.line(); multiline(c)
r = multiline(c)
assert r == "+OK message follows\r\nSubject: fake\r\n\r\nline one\r\n..dot-stuffed line\r\n\xe9\xff 8-bit\r\n.\r\n", r
c.send("STLS\r\n"); print(c.line(), end="")
c.send("QUIT\r\n"); c.line()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "$TLS_VERSION"*"-ERR TLS is already active"* ]]
  ! grep -q 'STLS' "$FAKE_LOG"
}

@test "pop3: -T refuses USER, PASS, APOP and AUTH before STLS, and CAPA lists neither USER nor SASL until then" {
  pop3_server -T
  run py '
c.line()
c.send("CAPA\r\n"); r = multiline(c); assert "STLS" in r and "USER" not in r and "SASL" not in r, r
for cmd in ("USER u", "PASS secret", "APOP u 0123456789abcdef", "AUTH PLAIN"):
    c.send(cmd + "\r\n"); r = c.line(); assert r == "-ERR Must issue STLS first\r\n", (cmd, r)
c.send("STLS\r\n"); c.line(); c.starttls(CA)
c.send("CAPA\r\n"); r = multiline(c); assert "STLS" not in r and "USER" in r, r
c.send("USER u\r\n"); print(c.line(), end="")
c.send("QUIT\r\n"); c.line()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "+OK"* ]]
  ! grep -q secret "$FAKE_LOG"
}

@test "pop3: STLS with arguments is -ERR; commands pipelined after STLS are never executed" {
  pop3_server
  run py '
c.line()
c.send("STLS now\r\n"); print(c.line(), end="")
c.send("STLS\r\nUSER evil\r\n"); print(c.line(), end="")
assert c.closed()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "-ERR STLS takes no arguments"*"-ERR STLS must be the last command of a pipeline"* ]]
  ! grep -q evil "$FAKE_LOG"
}

@test "pop3: multi-line replies are framed: pipelined RETR, LIST, UIDL and STAT answered whole and in order" {
  pop3_server
  run py '
c.line()
c.send("USER u\r\nPASS p\r\nRETR 1\r\nLIST\r\nUIDL\r\nSTAT\r\n")
c.line(); c.line()
print(multiline(c), end=""); print(multiline(c), end=""); print(multiline(c), end=""); print(c.line(), end="")
c.send("QUIT\r\n"); c.line()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "+OK message follows"*"+OK 1 messages"*"1 57"*"1 uid-1"*"+OK 1 57"* ]]
}

@test "pop3: AUTH's SASL exchange passes untouched inside TLS; overlong lines refused" {
  pop3_server
  run py '
c.line()
c.send("NOOP " + "x" * 400 + "\r\n"); print(c.line(), end="")
c.send("STLS\r\n"); c.line(); c.starttls(CA)
c.send("AUTH PLAIN\r\n"); assert c.line().startswith("+ ")
c.send("AGFsaWNlAHNlY3JldA==" + "A" * 300 + "\r\n"); print(c.line(), end="")
c.send("QUIT\r\n"); c.line()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "-ERR line too long"*"+OK authenticated"* ]]
}

@test "pop3: Python poplib stls(), login and retrieval" {
  pop3_server
  run tagged timeout 30 "$PY" -c "
import poplib, ssl
p = poplib.POP3('127.0.0.1', $PORT)
assert 'STLS' in p.capa()
p.stls(context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
assert 'STLS' not in p.capa()
p.user('u'); p.pass_('p')
resp, lines, octets = p.retr(1)
assert lines == [b'Subject: fake', b'', b'line one', b'.dot-stuffed line', b'\xe9\xff 8-bit'], lines
p.quit(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "pop3: openssl s_client -starttls pop3, gnutls-cli --starttls-proto=pop3 and curl --ssl-reqd pop3://" {
  pop3_server
  run s_client -starttls pop3 -servername localhost <<<"$(printf 'CAPA\r\nQUIT\r\n')"
  echo "$output"
  [[ "$output" == *"Protocol version: $TLS_VERSION"* ]]
  [[ "$output" == *"SASL PLAIN"* ]]
  run bash -c "(printf 'CAPA\r\n'; sleep 1; printf 'QUIT\r\n'; sleep 1) | timeout 20 gnutls-cli --x509cafile '$CERTS/ca.pem' --starttls-proto=pop3 -p $PORT localhost"
  echo "$output"
  [[ "$output" == *"SASL PLAIN"* ]]
  run tagged timeout 30 curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" -u u:p "pop3://localhost:$PORT/1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"line one"* ]]
}

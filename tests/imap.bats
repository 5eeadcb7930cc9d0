#!/usr/bin/env bats
# imap.bats: imapd-starttls under tcpserver + ucspitlsd, with a recording fake
# backend for exact assertions and real clients.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
}

teardown() {
  ust_teardown
}

imap_server() {
  proxy_server imapd-starttls fake-imapd.py "$@"
}

@test "imap: STARTTLS added to the greeting and CAPABILITY replies; the backend's STARTTLS and LOGINDISABLED removed" {
  imap_server
  run py '
g = c.line(); print(g, end="")
assert g == "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ IDLE STARTTLS] fake IMAP ready\r\n", g
c.send("a1 CAPABILITY\r\n"); r = until_tag(c, "a1"); print(r, end="")
assert r == "* CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ IDLE STARTTLS\r\na1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ IDLE STARTTLS] done\r\n", r
c.send("a2 LOGOUT\r\n"); until_tag(c, "a2")'
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "imap: -T adds LOGINDISABLED, hides AUTH= and refuses LOGIN and AUTHENTICATE until TLS" {
  imap_server -T
  run py '
g = c.line(); assert "STARTTLS LOGINDISABLED]" in g and "AUTH=" not in g, g
c.send("a0 CAPABILITY\r\n"); r = until_tag(c, "a0"); assert "LOGINDISABLED" in r and "AUTH=" not in r, r
c.send("a1 LOGIN user secret\r\n"); r = until_tag(c, "a1"); print(r, end="")
assert r.startswith("a1 NO [PRIVACYREQUIRED]"), r
c.send("a2 AUTHENTICATE PLAIN\r\n"); r = until_tag(c, "a2"); assert r == "a2 NO [PRIVACYREQUIRED] AUTHENTICATE is disabled until STARTTLS\r\n", r
c.send("a3 LOGIN {4}\r\n"); r = c.line(); assert r.startswith("a3 NO"), r   # no "+": the literal is never sent
c.send("a4 STARTTLS\r\n"); assert until_tag(c, "a4") == "a4 OK Begin TLS negotiation now\r\n"
c.starttls(CA)
c.send("a5 CAPABILITY\r\n"); r = until_tag(c, "a5"); print(r, end="")
assert "LOGINDISABLED" not in r and "STARTTLS" not in r and "AUTH=PLAIN" in r, r
c.send("a6 LOGIN user secret\r\n"); r = until_tag(c, "a6"); assert r.startswith("a6 OK"), r
c.send("a7 LOGOUT\r\n"); until_tag(c, "a7")'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c secret "$FAKE_LOG")" -eq 1 ]   # only the LOGIN sent inside TLS
}

@test "imap: STARTTLS session: OK is the last cleartext byte; a message fetched inside TLS arrives byte-exact" {
  imap_server
  run py '
c.line()
c.send("a1 STARTTLS\r\n"); r = c.line(); assert r == "a1 OK Begin TLS negotiation now\r\n", r
assert c.buf == b""
print(c.starttls(CA))
c.send("a2 LOGIN user pass\r\na3 SELECT INBOX\r\na4 FETCH 1 BODY[]\r\n")
until_tag(c, "a2"); until_tag(c, "a3")
r = until_tag(c, "a4")
assert r == "* 1 FETCH (UID 1 BODY[] {48}\r\nSubject: fake\r\n\r\nline one\r\n.line two\r\n\x00\xff 8-bit\r\n)\r\na4 OK fetched\r\n", r
c.send("a5 STARTTLS\r\n"); print(until_tag(c, "a5"), end="")
c.send("a6 LOGOUT\r\n"); until_tag(c, "a6")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "$TLS_VERSION"*"a5 BAD TLS is already active"* ]]
  ! grep -q 'STARTTLS' "$FAKE_LOG"
}

@test "imap: literals are data, never commands: {n} waits for the backend's +, {n+} does not" {
  imap_server
  run py '
c.line()
c.send("a1 APPEND INBOX {18}\r\n"); r = c.line(); assert r.startswith("+"), r
c.send("a9 STARTTLS\r\nxxxx\r\n"); r = until_tag(c, "a1"); print(r, end="")
c.send("a2 APPEND INBOX {18+}\r\na8 STARTTLS\r\nxxxx\r\n"); r = until_tag(c, "a2"); print(r, end="")
c.send("a3 LOGOUT\r\n"); until_tag(c, "a3")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "a1 OK appended"*"a2 OK appended"* ]]
  grep -q 'a9 STARTTLS' "$FAKE_LOG"   # inside the literal: data for the backend
  grep -q 'a8 STARTTLS' "$FAKE_LOG"
}

@test "imap: an absurd literal size is refused with bounded memory" {
  imap_server
  run py '
c.line()
c.send("a1 APPEND INBOX {99999999999}\r\n"); print(c.line(), end="")
c.send("a2 APPEND INBOX {99999999999+}\r\n"); print(c.line(), end="")
assert c.closed()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "a1 BAD literal too large"*"* BYE literal too large"* ]]
  ! grep -q '99999999999' "$FAKE_LOG"
}

@test "imap: commands pipelined after STARTTLS are never executed" {
  imap_server
  run py '
c.line()
c.send("a1 STARTTLS\r\na2 LOGIN evil secret\r\n")
print(c.line(), end="")
assert c.closed()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "* BYE STARTTLS must be the last command of a pipeline"* ]]
  ! grep -q evil "$FAKE_LOG"
}

@test "imap: STARTTLS with arguments is BAD; LOGIN without -T goes on in cleartext" {
  imap_server
  run py '
c.line()
c.send("a1 STARTTLS now\r\n"); print(until_tag(c, "a1"), end="")
c.send("a2 LOGIN user pass\r\n"); print(until_tag(c, "a2"), end="")
c.send("a3 CAPABILITY\r\n"); r = until_tag(c, "a3"); assert "STARTTLS" not in r, r
c.send("a4 STARTTLS\r\n"); print(until_tag(c, "a4"), end="")
c.send("a5 LOGOUT\r\n"); until_tag(c, "a5")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "a1 BAD STARTTLS takes no arguments"*"a2 OK"*"a4 NO TLS not available"* ]]
}

@test "imap: a PREAUTH greeting makes STARTTLS impossible: BYE, and the session is refused" {
  FAKE_MODE=preauth imap_server
  run py 'print(c.line(), end=""); assert c.closed()'
  [ "$status" -eq 0 ]
  [[ "$output" == "* BYE PREAUTH is incompatible with STARTTLS"* ]]
  wait_grep 'PREAUTH' "$SERVER_LOG" 5
}

@test "imap: IDLE and AUTHENTICATE exchanges pass untouched" {
  imap_server
  run py '
c.line()
c.send("a1 STARTTLS\r\n"); c.line(); c.starttls(CA)
c.send("a2 IDLE\r\n"); assert c.line().startswith("+ idling")
c.send("DONE\r\n"); print(until_tag(c, "a2"), end="")
c.send("a3 AUTHENTICATE PLAIN\r\n"); assert c.line().startswith("+")
c.send("AGFsaWNlAHNlY3JldA==\r\n"); print(until_tag(c, "a3"), end="")
c.send("a4 LOGOUT\r\n"); until_tag(c, "a4")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "a2 OK IDLE terminated"*"a3 OK authenticated"* ]]
  grep -q 'AGFsaWNlAHNlY3JldA==' "$FAKE_LOG"
}

@test "imap: overlong and NUL lines are refused, tagged when the tag is readable; one in the middle of a command ends the session" {
  imap_server -l 1024
  run py '
c.line()
c.send("a1 NOOP " + "x" * 2000 + "\r\n"); print(c.line(), end="")
c.send(b"a2 NOOP \x00\r\n"); print(c.line(), end="")
c.send(b"\x00a3 NOOP\r\n"); print(c.line(), end="")   # no readable tag: untagged
c.send(b"a4 APPEND INBOX {2+}\r\nxy\x00\r\n"); print(c.line(), end="")   # in the middle of a command: the end
assert c.closed()'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "a1 BAD line too long"*"a2 BAD NUL byte in command"*"* BAD NUL byte in command"*"* BYE command line refused in the middle of a command"* ]]
  cmp "$FAKE_LOG" <(printf 'a4 APPEND INBOX {2+}\r\nxy')
}

@test "imap: the idle timeout says BYE" {
  imap_server -t 400
  # the greeting may come first or not at all on a loaded machine: the BYE is last
  run py '
lines = []
while True:
    try: lines.append(c.line())
    except EOFError: break
print(lines[-1], end="")'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "* BYE Idle timeout"* ]]
}

@test "imap: Python imaplib starttls(), login and fetch" {
  imap_server
  run tagged timeout 30 "$PY" -c "
import imaplib, ssl
m = imaplib.IMAP4('127.0.0.1', $PORT)
assert 'STARTTLS' in m.capabilities
m.starttls(ssl_context=ssl.create_default_context(cafile='$CERTS/ca.pem'))
assert 'STARTTLS' not in m.capabilities
m.login('user', 'pass'); m.select('INBOX')
typ, data = m.fetch('1', '(BODY[])')
assert data[0][1] == b'Subject: fake\r\n\r\nline one\r\n.line two\r\n\x00\xff 8-bit\r\n', data
m.logout(); print('ok')"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "imap: openssl s_client -starttls imap and gnutls-cli --starttls-proto=imap" {
  imap_server
  run s_client -starttls imap -servername localhost <<<"$(printf 'a1 CAPABILITY\r\na2 LOGOUT\r\n')"
  echo "$output"
  [[ "$output" == *"Protocol version: $TLS_VERSION"* ]]
  [[ "$output" == *"a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ IDLE]"* ]]
  run bash -c "(printf 'a1 CAPABILITY\r\n'; sleep 1; printf 'a2 LOGOUT\r\n'; sleep 1) | timeout 20 gnutls-cli --x509cafile '$CERTS/ca.pem' --starttls-proto=imap -p $PORT localhost"
  echo "$output"
  [[ "$output" == *"a1 OK [CAPABILITY"* ]]
}

@test "imap: curl --ssl-reqd imap:// logs in and fetches over STARTTLS" {
  imap_server
  run tagged timeout 30 curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" -u user:pass "imap://localhost:$PORT/INBOX;UID=1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"line one"* ]]
}

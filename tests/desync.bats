#!/usr/bin/env bats
# desync.bats: the desynchronisation family of command injection (issue 13).
# Each attack is one cleartext write by a man in the middle, then the victim
# completes TLS and sends its first command. It passes only if STARTTLS was
# refused or the session closed, or if the victim's command reached the
# backend at a clean boundary and got its own reply. The backend,
# tests/helpers/desync-backend.py, frames bytes the way some real server
# does ($FAKE_MODE) and writes what it executed to $FAKE_TRACE.

load helpers/common
load helpers/proxy

setup() {
  proxy_setup
  TRACE=$T/backend.trace
  : > "$TRACE"
}

teardown() { ust_teardown ; }

# desync_server PROXY [proxy options...]: under ucspitlsd, or with
# DESYNC_OWN=1 as its own controller (-C), in front of the backend for its protocol.
desync_server() {
  local proxy=$1 proto=${1%d-starttls}
  shift
  if [ "${DESYNC_OWN:-0}" = 1 ]; then
    start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_TRACE="$TRACE" \
      FAKE_MODE="${FAKE_MODE:-}" FAKE_PROTO="$proto" -- "$UST_BIN/$proxy" -C -v 2 "$@" -- "$PY" "$SCRIPTS/desync-backend.py"
  else
    start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_TRACE="$TRACE" \
      FAKE_MODE="${FAKE_MODE:-}" FAKE_PROTO="$proto" \
      -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/$proxy" -v 2 "$@" -- "$PY" "$SCRIPTS/desync-backend.py"
  fi
}

# attack 'python code': runs code with c connected and these helpers:
# smtp_victim(c) reads replies up to STARTTLS's (220/454/421 or the close);
# on 220 it completes TLS and sends EHLO victim, which must get the backend's
# own greeting. imap_victim(c, tag) does the same with tag STARTTLS and
# "v LOGIN victim pw"; pop3_victim(c) with STLS and "USER victim". Each
# prints REFUSED or VICTIM-OK.
attack() {
  tagged timeout 30 "$PY" -c "
import smtptest, sys
from smtptest import until_tag
CA = '$CERTS/ca.pem'
c = smtptest.Client($PORT)
def smtp_victim(c):
    while True:
        try: r = c.reply()
        except EOFError: print('REFUSED closed'); return
        if r[:3] in ('454', '421'): print('REFUSED', r.strip()); return
        if r.startswith('220 2.0.0 Ready'): break
    c.starttls(CA)
    r = c.cmd('EHLO victim')
    assert 'greets victim' in r, 'victim got: ' + r
    print('VICTIM-OK')
def imap_victim(c, tag):
    c.send(tag + ' STARTTLS\r\n')
    try: r = until_tag(c, tag)
    except EOFError: print('REFUSED closed'); return
    if not r.split('\n')[-2].startswith(tag + ' OK'): print('REFUSED', r.strip()); return
    c.starttls(CA)
    c.send('v LOGIN victim pw\r\n')
    r = c.line()
    assert r.startswith('v OK logged in as victim'), 'victim got: ' + r
    print('VICTIM-OK')
def pop3_victim(c):
    c.send('STLS\r\n')
    try: r = c.line()
    except EOFError: print('REFUSED closed'); return
    if not r.startswith('+OK Begin TLS'): print('REFUSED', r.strip()); return
    c.starttls(CA)
    c.send('USER victim\r\n')
    r = c.line()
    assert r.startswith('+OK hello victim'), 'victim got: ' + r
    print('VICTIM-OK')
$1"
}

# ------------------------------------------------------------------ SMTP

smtp_bdat_attack() {
  FAKE_MODE=nochunking desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a")
cmds = b"NOOP\r\nMAIL FROM:<a@x>\r\nRCPT TO:<attacker@x>\r\nDATA\r\n"
c.send(b"BDAT %d\r\n" % len(cmds) + cmds + b"STARTTLS\r\n")
print(c.reply().strip())
smtp_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "502 5.5.1 BDAT not available"
  assert_line "VICTIM-OK"
  # the chunk never reached the backend; the victim's EHLO did, as a command
  run grep -c -e attacker -e '^CMD BDAT' -e '^CMD DATA' "$TRACE"
  assert_output 0
  grep -q '^CMD EHLO victim$' "$TRACE"
}

@test "desync smtp: BDAT to a backend without CHUNKING: 502 locally, its chunk dropped, the victim's EHLO is a command" {
  smtp_bdat_attack
}

@test "desync smtp -C: BDAT to a backend without CHUNKING: 502 locally, its chunk dropped" {
  DESYNC_OWN=1 smtp_bdat_attack
}

@test "desync smtp: BDAT reaches a backend that advertised CHUNKING, and a malformed BDAT ends the session" {
  desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a"); c.cmd("MAIL FROM:<a@x>"); c.cmd("RCPT TO:<b@x>")
c.send(b"BDAT 5 LAST\r\nhello")
print(c.reply().strip())
c.send(b"BDAT 4294967296 LAST\r\nhello")
print(c.reply().strip())
print(c.closed())'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "250 2.0.0 chunk"
  assert_line --index 1 --partial "421 4.5.2 Syntax error in BDAT"
  assert_line --index 2 True
  grep -q '^BODY 5$' "$TRACE"
  run grep -c '^CMD BDAT 4294967296' "$TRACE"
  assert_output 0
}

@test "desync smtp: a bare CR in a command (a CR-splitting backend) is refused, never forwarded" {
  FAKE_MODE=crsplit desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a")
c.send(b"NOOP\rMAIL FROM:<attacker@x>\r\n")
print(c.reply().strip())
c.send(b"NOOP\r\rRCPT TO:<attacker@x>\r\n")
print(c.reply().strip())
c.send(b"STARTTLS\r\n")
smtp_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 --partial "500 5.5.2"
  assert_line "VICTIM-OK"
  run grep -c attacker "$TRACE"
  assert_output 0
}

@test "desync smtp: a verb ended by HT or a leading blank (a blank-splitting backend) is refused before TLS, never forwarded" {
  FAKE_MODE=wssplit desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a")
c.send(b"AUTH\tPLAIN AGF0dGFja2VyAHB3\r\n")
print(c.reply().strip())
c.send(b" AUTH PLAIN AGF0dGFja2VyAHB3\r\n")
print(c.reply().strip())
c.send(b"MAIL\tFROM:<attacker@x>\r\n")
print(c.reply().strip())
c.send(b"STARTTLS\r\n")
smtp_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "500 5.5.2 Syntax error: control byte or leading blank in command"
  assert_line --index 1 "500 5.5.2 Syntax error: control byte or leading blank in command"
  assert_line --index 2 "500 5.5.2 Syntax error: control byte or leading blank in command"
  assert_line "VICTIM-OK"
  run grep -c -e AUTH -e attacker "$TRACE"
  assert_output 0
}

@test "desync smtp: before TLS a verb that leaves state behind (XCLIENT, an unknown one) commits the session to cleartext; HELP, VRFY, EXPN do not" {
  desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a")
print(c.cmd("HELP").strip()); print(c.cmd("VRFY x").strip())
c.send(b"STARTTLS\r\n")
smtp_victim(c)'
  echo "$output"
  assert_success
  assert_line "VICTIM-OK"
  run attack '
c.reply(); c.cmd("EHLO a")
print(c.cmd("XCLIENT ADDR=192.0.2.1").strip())
c.send(b"STARTTLS\r\n")
smtp_victim(c)'
  echo "$output"
  assert_success
  assert_line "REFUSED 454 4.7.0 TLS not available"
}

@test "desync smtp: bare LF and CR around a dot in DATA (SMTP smuggling) end no body at a lenient backend, the next command is answered in step" {
  FAKE_MODE=lenientdot desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a"); c.cmd("MAIL FROM:<legit@x>"); c.cmd("RCPT TO:<b@x>")
assert c.cmd("DATA").startswith("354")
smuggled = b"MAIL FROM:<a@x>\r\nRCPT TO:<attacker@x>\r\nDATA\r\n"
c.send(b"x\n.\n" + smuggled + b"y\r\n.\r" + smuggled + b"z\r.\r\n" + smuggled + b"w\r\n.\n" + smuggled + b"end\r\n.\r\n")
print(c.reply().strip())
print(c.cmd("NOOP").strip())'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 --partial "250 2.0.0 queued"
  # the next command gets its own reply: both ended the body at the same place
  assert_line --index 1 "250 2.0.0 ok NOOP"
  # one body, no smuggled command
  run grep -c -e attacker -e '^BODY' "$TRACE"
  assert_output 1
}

@test "desync smtp: a backend that answers one command twice taints the session: STARTTLS refused (454), -T ends it (421)" {
  FAKE_MODE=double desync_server smtpd-starttls
  run attack '
c.reply(); c.cmd("EHLO a")
c.send(b"NOOP\r\n")
print(c.reply().strip()); print(c.reply().strip())
c.send(b"STARTTLS\r\n")
smtp_victim(c)'
  echo "$output"
  assert_success
  assert_line "REFUSED 454 4.7.0 TLS not available"
  grep -q 'out of step with the proxy (a reply no command awaited)' "$SERVER_LOG"
  FAKE_MODE=double desync_server smtpd-starttls -T
  run attack '
c.reply(); c.cmd("EHLO a")
c.send(b"NOOP\r\n")
print(c.reply().strip())
smtp_victim(c)'
  echo "$output"
  assert_success
  assert_line --partial "REFUSED 421 4.7.0 Backend out of step"
}

# ------------------------------------------------------------------ IMAP

@test "desync imap: IDLE refused before login, then LOGIN and APPEND: the proxy waits for the backend's + (no raw mode)" {
  FAKE_MODE=idlerefused desync_server imapd-starttls
  run attack '
c.line()
c.send(b"a IDLE\r\nb LOGIN attacker pw\r\n")
print(until_tag(c, "b").strip().split("\n")[-1])
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  # LOGIN in cleartext commits the session to it: no TLS on top of the attacker's login
  assert_line --partial "REFUSED d NO"
}

@test "desync imap -T: IDLE refused before login: LOGIN is still refused in cleartext, the victim logs in inside TLS" {
  for own in 0 1; do
    : > "$TRACE"
    DESYNC_OWN=$own FAKE_MODE=idlerefused desync_server imapd-starttls -T
    run attack '
c.line()
c.send(b"a IDLE\r\nb LOGIN attacker pw\r\nc APPEND INBOX {4}\r\n")
print(until_tag(c, "c").strip().split("\n")[-1])
imap_victim(c, "d")'
    echo "$output"; cat "$TRACE"
    assert_success
    assert_line "c NO [PRIVACYREQUIRED] Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
    assert_line "VICTIM-OK"
    run grep -c -e attacker -e IDLE -e APPEND "$TRACE"
    assert_output 0
    grep -q '^CMD v LOGIN victim pw$' "$TRACE"
    # a literal already on its way ({n+}) cannot be refused: the session ends
    : > "$TRACE"
    run attack '
c.line()
c.send(b"a IDLE\r\nb LOGIN attacker pw\r\nc APPEND INBOX {4+}\r\nxxxx\r\n")
print(until_tag(c, "b").strip().split("\n")[-1])
print(c.line().strip())
print(c.closed())'
    echo "$output"; cat "$TRACE"
    assert_success
    assert_line --index 1 "* BYE Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
    assert_line --index 2 True
    run grep -c -e attacker -e IDLE -e APPEND "$TRACE"
    assert_output 0
  done
}

@test "desync imap: IDLE accepted: one line (DONE) per +, then commands are framed again (and no TLS after it)" {
  desync_server imapd-starttls
  run attack '
c.line()
c.send(b"a IDLE\r\n")
print(c.line().strip())
c.send(b"DONE\r\n")
print(until_tag(c, "a").strip().split("\n")[-1])
c.send(b"b NOOP\r\n")
print(until_tag(c, "b").strip().split("\n")[-1])
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "+ idling"
  assert_line --index 1 "a OK IDLE done"
  assert_line --index 2 "b OK NOOP done"
  # IDLE is no command of the not-authenticated state: the session is committed to cleartext
  assert_line "REFUSED d NO TLS not available"
}

@test "desync imap: a literal marker inside a quoted string is never forwarded (BAD for {n}, BYE for {n+})" {
  for mode in "" lenientquote; do
    : > "$TRACE"
    FAKE_MODE=$mode desync_server imapd-starttls
    run attack '
c.line()
c.send(b"a NOOP \"{40}\r\n")
print(c.line().strip())
c.send(b"b NOOP \"{40+}\r\nb LOGIN attacker pw\r\nc LOGIN attacker pw\r\n")
print(c.line().strip())
print(c.closed())'
    echo "$output"; cat "$TRACE"
    assert_success
    assert_line --index 0 "a BAD literal marker inside a quoted string"
    assert_line --index 1 "* BYE ambiguous literal"
    assert_line --index 2 True
    run grep -c -e attacker -e NOOP "$TRACE"
    assert_output 0
  done
}

@test "desync imap -T: LOGIN with HT or doubled blanks (a blank-splitting backend) is refused in cleartext, never forwarded" {
  FAKE_MODE=wssplit desync_server imapd-starttls -T
  run attack '
c.line()
c.send(b"a LOGIN\tattacker\tpw\r\n")
print(until_tag(c, "a").strip())
c.send(b"b  LOGIN attacker pw\r\n")
print(until_tag(c, "b").strip())
c.send(b"c CAPABILITY\t\r\n")
print(until_tag(c, "c").strip())
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "a NO [PRIVACYREQUIRED] Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
  assert_line --index 1 "b NO [PRIVACYREQUIRED] Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
  assert_line --index 2 "c NO [PRIVACYREQUIRED] Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
  assert_line "VICTIM-OK"
  run grep -c -e attacker -e CAPABILITY "$TRACE"
  assert_output 0
}

@test "desync imap: a command with HT before TLS commits the session to cleartext (no TLS on a login the proxy could not see)" {
  FAKE_MODE=wssplit desync_server imapd-starttls
  run attack '
c.line()
c.send(b"a LOGIN\tattacker\tpw\r\n")
print(until_tag(c, "a").strip())
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "a OK logged in as attacker"
  assert_line "REFUSED d NO TLS not available"
}

@test "desync imap -T: a literal framed otherwise by the backend (no SP before it) never carries a LOGIN past the proxy" {
  FAKE_MODE=atomlit desync_server imapd-starttls -T
  run attack '
c.line()
c.send(b"a CAPABILITY x{22+}\r\ns3 LOGIN attacker pw\r\n")
print(c.line().strip())
print(c.closed())'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "* BYE Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS"
  assert_line --index 1 True
  run grep -c -e attacker -e CAPABILITY "$TRACE"
  assert_output 0
}

@test "desync imap -T: a literal's size is its whole digit run (leading zeros, 20 digits and more)" {
  desync_server imapd-starttls -T
  run attack '
c.line()
c.send(b"a LOGIN {000000000000000000000004+}\r\nxxxx\r\n")
print(c.line().strip())
print(c.closed())'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "* BYE LOGIN is disabled until STARTTLS"
  assert_line --index 1 True
}

@test "desync imap: ID before TLS is answered by the proxy (a server may keep what a first ID says), never forwarded" {
  desync_server imapd-starttls
  run attack '
c.line()
c.send(b"a ID (\"x-originating-ip\" \"192.0.2.1\")\r\n")
print(until_tag(c, "a").strip())
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_output --partial "$(printf '* ID NIL\r\na OK ID completed')"
  assert_line "VICTIM-OK"
  run grep -c ' ID ' "$TRACE"
  assert_output 0
}

@test "desync imap: a tagged reply to a command never forwarded taints the session: STARTTLS refused" {
  FAKE_MODE=double desync_server imapd-starttls
  run attack '
c.line()
c.send(b"a NOOP\r\n")
print(until_tag(c, "a").strip())
print(c.line().strip())
imap_victim(c, "d")'
  echo "$output"
  assert_success
  assert_line --partial "REFUSED d NO"
  grep -q 'out of step with the proxy (a tagged reply to no command forwarded)' "$SERVER_LOG"
}

@test "desync imap: before OK to STARTTLS the proxy proves the boundary with its own NOOP under an unpredictable tag" {
  desync_server imapd-starttls
  run attack '
c.line()
imap_victim(c, "d")'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line "VICTIM-OK"
  refute_output --partial ust
  run grep -cE '^CMD ust[0-9a-f]{16} NOOP$' "$TRACE"
  assert_output 1
  # a second session: another tag
  run attack '
c.line()
imap_victim(c, "d")'
  assert_line "VICTIM-OK"
  [ "$(grep -E '^CMD ust' "$TRACE" | sort -u | wc -l)" = 2 ]
  FAKE_MODE=nonoop desync_server imapd-starttls
  run attack '
c.line()
imap_victim(c, "d")'
  echo "$output"
  assert_line "REFUSED d NO TLS not available"
  grep -q "did not complete the proxy's NOOP" "$SERVER_LOG"
}

# ------------------------------------------------------------------ POP3

@test "desync pop3: AUTH refused, then USER and PASS in one write: no TLS on the attacker's login, and under -T nothing of it reaches the backend" {
  FAKE_MODE=authrefused desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"AUTH X\r\nUSER attacker\r\nPASS pw\r\n")
print(c.line().strip()); print(c.line().strip()); print(c.line().strip())
pop3_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 "-ERR no AUTH here"
  # USER in cleartext commits the session to it: no TLS on top of the attacker's login
  assert_line "REFUSED -ERR TLS not available"
  for own in 0 1; do
    : > "$TRACE"
    DESYNC_OWN=$own FAKE_MODE=authrefused desync_server pop3d-starttls -T
    run attack '
c.line()
c.send(b"AUTH X\r\nUSER attacker\r\nPASS pw\r\n")
print(c.line().strip()); print(c.line().strip()); print(c.line().strip())
pop3_victim(c)'
    echo "$output"; cat "$TRACE"
    assert_success
    assert_line "VICTIM-OK"
    run grep -c attacker "$TRACE"
    assert_output 0
  done
}

@test "desync pop3: an AUTH exchange passes one line per + challenge" {
  desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"AUTH PLAIN\r\n")
print(c.line().strip())
c.send(b"AGFAYg==\r\n")
print(c.line().strip())
c.send(b"NOOP\r\n")
print(c.line().strip())'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_output "$(printf -- '+\n+OK authenticated\n+OK')"
  grep -q '^SASL AGFAYg==$' "$TRACE"
}

@test "desync pop3: a reply no command awaited taints the session: STLS refused" {
  FAKE_MODE=double desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"NOOP\r\n")
print(c.line().strip()); print(c.line().strip())
pop3_victim(c)'
  echo "$output"
  assert_success
  assert_line "REFUSED -ERR TLS not available"
  grep -q 'out of step with the proxy (a reply no command awaited)' "$SERVER_LOG"
}

@test "desync pop3: a one-line reply longer than the line limit is one reply (STLS is answered after it)" {
  FAKE_MODE=longline desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"NOOP\r\n")
print(len(c.line()))
pop3_victim(c)'
  echo "$output"
  assert_success
  assert_line --index 0 70006
  assert_line "VICTIM-OK"
}

@test "desync pop3: a command line with a bare CR or LF is refused, never forwarded" {
  desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"NOOP\rUSER attacker\r\n")
print(c.line().strip())
c.send(b"NOOP\n")
print(c.line().strip())
pop3_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line --index 0 --partial "-ERR command lines end in CRLF"
  assert_line --index 1 --partial "-ERR command lines end in CRLF"
  assert_line "VICTIM-OK"
  run grep -c -e attacker -e NOOP "$TRACE"
  assert_output 0
}

@test "desync pop3 -T: USER and PASS with HT (a blank-splitting backend) are refused in cleartext, never forwarded" {
  FAKE_MODE=wssplit desync_server pop3d-starttls -T
  run attack '
c.line()
c.send(b"USER\tattacker\r\nPASS\tpw\r\n USER attacker\r\nCAPA \r\n")
for i in range(4): print(c.line().strip())
pop3_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_output --partial "$(printf -- '-ERR Must issue STLS first\n-ERR Must issue STLS first\n-ERR Must issue STLS first\n-ERR Must issue STLS first\n')"
  assert_line "VICTIM-OK"
  run grep -c -e attacker -e CAPA -e PASS "$TRACE"
  assert_output 0
}

@test "desync pop3: AUTH with HT (a blank-splitting backend) commits the session to cleartext: no STLS mid-SASL" {
  FAKE_MODE=wssplit desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"AUTH\tPLAIN\r\n")
print(c.line().strip())
c.send(b"AGF0dGFja2VyAHB3\r\n")
print(c.line().strip())
pop3_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line "REFUSED -ERR TLS not available"
}

@test "desync pop3: a + challenge to a command that is no AUTH taints the session: STLS refused, -T ends it" {
  FAKE_MODE=plusnoop desync_server pop3d-starttls
  run attack '
c.line()
c.send(b"NOOP\r\n")
print(c.line().strip())
c.send(b"AGF0dGFja2VyAHB3\r\n")
print(c.line().strip())
pop3_victim(c)'
  echo "$output"; cat "$TRACE"
  assert_success
  assert_line "REFUSED -ERR TLS not available"
  grep -q 'out of step with the proxy (a SASL challenge to a command that is no AUTH)' "$SERVER_LOG"
  FAKE_MODE=plusnoop desync_server pop3d-starttls -T
  run attack '
c.line()
c.send(b"NOOP\r\n")
print(c.line().strip())
print(c.closed())'
  echo "$output"
  assert_success
  assert_line --index 0 "-ERR backend out of step, closing connection"
  assert_line --index 1 True
}

#!/usr/bin/env bats
# client.bats: the client-side proxies (smtpc-, imapc-, pop3c-starttls)
# under tcpclient and ucspitlsc, as a local listener (tcpserver in front)
# and with a program of their own. The servers: our server-side stack in
# front of exim4 (the real ones for IMAP and POP3 are in mailutils.bats),
# and stub-starttls-server.py under ucspitlsd, which starts TLS itself
# and can omit or refuse STARTTLS, inject bytes after its success reply,
# and offer STARTTLS again inside TLS.

load helpers/common
load helpers/proxy

setup() { proxy_setup ; }
teardown() { ust_teardown ; }

# stub PROTO MODE: the stub server under ucspitlsd (certificate for
# localhost from the test CA); SPORT is its port.
stub() {
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" STUB_PROTO="$1" STUB_MODE="$2" \
    -- "$UST_BIN/ucspitlsd" -K 5000 -- "$PY" "$SCRIPTS/stub-starttls-server.py"
  SPORT=$PORT
}

# listener PROG [ucspitlsc options] -- [PROG options]: the local listener
# (PORT) in front of tcpclient to SPORT, ucspitlsc and PROG. CA: $CA or
# the test CA.
listener() {
  local prog=$1 copts=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do copts+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  start_server CAFILE="${CA:-$CERTS/ca.pem}" -- tcpclient -RHl0 127.0.0.1 "$SPORT" \
    "$UST_BIN/ucspitlsc" "${copts[@]}" -- "$UST_BIN/$prog" -v 2 -w 5000 -K 5000 "$@"
}

# client 'python code': c is a smtptest.Client connected to the listener.
client() {
  tagged timeout 30 "$PY" -c "
import smtptest, sys
c = smtptest.Client($PORT)
$1"
}

@test "client: swaks, plaintext only, delivers through smtpc-starttls to smtpd-starttls in front of exim4 -bs: byte-exact, never offered STARTTLS" {
  [ -x /usr/sbin/exim4 ] || skip "exim4 not installed"
  exim_server
  SPORT=$PORT
  listener smtpc-starttls -k localhost --
  printf 'first line\r\n.leading dot\r\n8bit \xc3\xa9t\xc3\xa9\r\nlast line\r\n' > "$T/body"
  run tagged timeout 60 swaks --server 127.0.0.1 --port "$PORT" --to user@exim.test --from sender@example.org --body "@$T/body" --header 'Subject: swaks'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *STARTTLS* ]]
  [[ "$output" == *"<-  220 "* ]]
  f=$(ls "$T/exim/maildir/new/")
  [ -n "$f" ]
  "$PY" -c "import sys; d=open(sys.argv[1],'rb').read(); sys.exit(0 if b'\n\nfirst line\n.leading dot\n8bit \xc3\xa9t\xc3\xa9\nlast line\n' in d else 1)" "$T/exim/maildir/new/$f"
  wait_grep "smtpc-starttls: info: 127.0.0.1: session ended: tls $TLS_VERSION .* \(server name localhost verified\)$" "$SERVER_LOG" 10
  wait_grep "smtpd-starttls: info: 127.0.0.1: session ended: tls" "$SERVER_LOG" 10
}

@test "client: SMTP inside TLS: the greeting exact, the EHLO reply without the STARTTLS the stub still offers, the body byte-exact, the proxy's EHLO first" {
  stub smtp normal
  listener smtpc-starttls -k localhost -- -h client.test
  run client '
g = c.reply(); print(repr(g)); assert g == "220 stub.test ESMTP ready\r\n", g
r = c.cmd("EHLO me"); print(repr(r))
assert r == "250-stub.test hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n", r
assert c.cmd("MAIL FROM:<a@b>").startswith("250")
assert c.cmd("RCPT TO:<c@d>").startswith("250")
assert c.cmd("DATA").startswith("354")
c.send(b"line one\r\nSTARTTLS\r\n250-STARTTLS\r\n\xc3\xa9\r\n.\r\n"); assert c.reply().startswith("250")
assert c.cmd("QUIT").startswith("221"); print(c.closed())'
  echo "$output"
  assert_success
  assert_line True
  # what the stub received: EHLO and STARTTLS in cleartext, then the proxy's EHLO inside TLS, then the client's
  "$PY" - "$FAKE_LOG" <<'EOF'
import sys
log = open(sys.argv[1], 'rb').read()
want = b"EHLO client.test\r\nSTARTTLS\r\ntls up\nEHLO client.test\r\nEHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nline one\r\nSTARTTLS\r\n250-STARTTLS\r\n\xc3\xa9\r\n.\r\nQUIT\r\n"
assert log == want, log
EOF
  wait_grep "still offers STARTTLS inside TLS" "$SERVER_LOG" 10
  wait_grep "smtpc-starttls: info: 127.0.0.1: session ended: tls" "$SERVER_LOG" 10
}

@test "client: IMAP inside TLS: greeting without its capability code, CAPABILITY and the LOGIN code without STARTTLS and LOGINDISABLED, literals untouched" {
  stub imap normal
  listener imapc-starttls -k localhost --
  run tagged timeout 30 "$PY" -c "
import imaplib
m = imaplib.IMAP4('127.0.0.1', $PORT)
print(m.welcome)
assert m.welcome == b'* OK stub ready', m.welcome
assert 'STARTTLS' not in m.capabilities and 'LOGINDISABLED' not in m.capabilities, m.capabilities
assert 'AUTH=PLAIN' in m.capabilities
typ, data = m.login('u', 'p'); assert typ == 'OK'
typ, data = m._untagged_response(typ, data, 'CAPABILITY')
m.select()
typ, data = m.fetch('1', '(BODY[])')
print(repr(data))
assert data[0][1] == b'Subject: stub\r\n\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK [CAPABILITY STARTTLS] not a response\r\n', data
m.logout()"
  echo "$output"
  assert_success
  grep -q "LOGIN u " "$FAKE_LOG"
  # the login reply's code: the raw bytes the client got are checked through a plain socket
  run client '
c.line(); c.send(b"a LOGIN u p\r\n"); r = c.line(); print(repr(r)); assert r == "a OK [CAPABILITY IMAP4rev1 IDLE] logged in\r\n", r
c.send(b"b LOGOUT\r\n"); print(c.line().strip())'
  echo "$output"
  assert_success
}

@test "client: POP3 inside TLS: the greeting exact, RETR byte-exact (a body line STLS is data)" {
  stub pop3 normal
  listener pop3c-starttls -k localhost --
  run tagged timeout 30 "$PY" -c "
import poplib
p = poplib.POP3('127.0.0.1', $PORT)
print(p.getwelcome())
assert p.getwelcome() == b'+OK stub ready <1.2@stub.test>'
caps = p.capa(); assert 'STLS' not in caps, caps
p.user('u'); p.pass_('p')
resp, lines, octets = p.retr(1)
print(lines)
assert lines == [b'Subject: stub', b'', b'STLS', b'.dot line', b'last'], lines
p.quit()"
  echo "$output"
  assert_success
  wait_grep "pop3c-starttls: info: 127.0.0.1: session ended: tls" "$SERVER_LOG" 10
}

# refused PROTO REFUSAL-PREFIX LOG-TEXT: the client's first line is the
# refusal, it never sees the server; the log says why, exit code 98.
refused() {
  run client "
l = c.line(); print(repr(l)); assert l.startswith('$2'), l
c.send(b'EHLO x\r\na NOOP\r\nUSER u\r\n')
print(c.closed())"
  echo "$output"
  assert_success
  assert_line True
  [[ "$output" != *INJECTED* ]]
  [[ "$output" != *stub* ]]
  wait_grep "$1c-starttls: info: 127.0.0.1: session refused: no TLS: $3.*; exit code ${4:-98}" "$SERVER_LOG" 10
  # nothing of the client's ever reached the server
  ! grep -q "NOOP\|USER\|EHLO x" "$FAKE_LOG"
}

@test "client: a server that does not offer STARTTLS/STLS: 421 4.7.0 / * BYE / -ERR, never cleartext" {
  stub smtp omit ; listener smtpc-starttls -k localhost -- ; refused smtp "421 4.7.0 " "the server's EHLO reply offers no STARTTLS"
  stub imap omit ; listener imapc-starttls -k localhost -- ; refused imap "* BYE " "the server's capabilities hold no STARTTLS"
  stub pop3 omit ; listener pop3c-starttls -k localhost -- ; refused pop3 "-ERR " "the server's CAPA response offers no STLS"
  stub pop3 nocapa ; listener pop3c-starttls -k localhost -- ; refused pop3 "-ERR " "CAPA refused"
  stub imap preauth ; listener imapc-starttls -k localhost -- ; refused imap "* BYE " "a PREAUTH greeting"
}

@test "client: a server that refuses STARTTLS/STLS: the session is refused" {
  stub smtp refuse ; listener smtpc-starttls -k localhost -- ; refused smtp "421 4.7.0 " "STARTTLS refused: 454 4.7.0 TLS not available now"
  stub imap refuse ; listener imapc-starttls -k localhost -- ; refused imap "* BYE " "STARTTLS refused: C2 NO not now"
  stub pop3 refuse ; listener pop3c-starttls -k localhost -- ; refused pop3 "-ERR " "STLS refused: -ERR not now"
}

@test "client: bytes after the 220 / OK / +OK success reply: never read as replies, never given; logged as an injection" {
  stub smtp inject ; listener smtpc-starttls -k localhost -- ; refused smtp "421 4.7.0 " "bytes after the success reply"
  grep -q "smtpc-starttls: info: 127.0.0.1: injection attempt" "$SERVER_LOG"
  stub imap inject ; listener imapc-starttls -k localhost -- ; refused imap "* BYE " "bytes after the success reply"
  stub pop3 inject ; listener pop3c-starttls -k localhost -- ; refused pop3 "-ERR " "bytes after the success reply"
}

@test "client: bytes that come after the success reply but later: they reach only the engine, as a broken handshake" {
  stub smtp late ; listener smtpc-starttls -k localhost -- ; refused smtp "421 4.7.0 " "the TLS handshake or the verification of the server failed"
  stub pop3 late ; listener pop3c-starttls -k localhost -- ; refused pop3 "-ERR " "the TLS handshake or the verification of the server failed"
}

@test "client: a certificate for another name than -k, or from an untrusted CA: refused" {
  stub smtp normal ; listener smtpc-starttls -k mail.example.org -- ; refused smtp "421 4.7.0 " "the TLS handshake or the verification of the server failed"
  CA=$CERTS/ca2.pem
  stub imap normal ; listener imapc-starttls -k localhost -- ; refused imap "* BYE " "the TLS handshake or the verification of the server failed"
}

@test "client: without -k no name was verified: refused unless a pin is given; a pin must match" {
  stub smtp normal ; listener smtpc-starttls -- ; refused smtp "421 4.7.0 " "no server name was verified"
  pin=$(openssl x509 -in "$CERTS/server-ec.pem" -outform DER | sha256sum | cut -d' ' -f1)
  stub smtp normal ; listener smtpc-starttls -- -p "SHA256:0000000000000000000000000000000000000000000000000000000000000000" -p "SHA256:${pin^^}"
  run client 'print(c.reply().strip()); print(c.cmd("QUIT").strip())'
  echo "$output"
  assert_success
  assert_line --index 0 "220 stub.test ESMTP ready"
  wait_grep "session ended: tls .* \(pinned certificate SHA256:$pin verified\)" "$SERVER_LOG" 10
  stub smtp normal ; listener smtpc-starttls -k localhost -- -p "SHA256:0000000000000000000000000000000000000000000000000000000000000000"
  refused smtp "421 4.7.0 " "the server's certificate matches no -p pin"
}

@test "client: -O (opportunistic): a server without STARTTLS gets cleartext, logged; the refusal of STARTTLS too; an injection never" {
  stub smtp omit ; listener smtpc-starttls -k localhost -- -O
  run client 'print(c.reply().strip()); print(repr(c.cmd("EHLO me"))); print(c.cmd("QUIT").strip())'
  echo "$output"
  assert_success
  assert_line --index 0 "220 stub.test ESMTP ready"
  wait_grep "smtpc-starttls: info: 127.0.0.1: session ended: cleartext \(-O, opportunistic\): the server's EHLO reply offers no STARTTLS$" "$SERVER_LOG" 10
  # the EHLO name by default: not the "0" of tcpclient -l0, the address literal
  grep -q "^EHLO \[127.0.0.1\]" "$FAKE_LOG"
  stub smtp refuse ; listener smtpc-starttls -k localhost -- -O
  run client 'print(c.reply().strip()); r = c.cmd("EHLO me"); print(repr(r)); assert "STARTTLS" not in r; print(c.cmd("QUIT").strip())'
  echo "$output"
  assert_success
  # IMAP in cleartext: STARTTLS is taken out, LOGINDISABLED stays (the client must not send its password)
  stub imap refuse ; listener imapc-starttls -k localhost -- -O
  run client 'print(c.line().strip()); c.send(b"a CAPABILITY\r\n"); print(c.line().strip())'
  echo "$output"
  assert_success
  assert_line --index 0 "* OK stub ready"
  assert_line --index 1 "* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN"
  stub smtp inject ; listener smtpc-starttls -k localhost -- -O ; refused smtp "421 4.7.0 " "bytes after the success reply"
  # IMAP: a PREAUTH greeting (no STARTTLS possible) reaches the client as a PREAUTH
  stub imap preauth ; listener imapc-starttls -k localhost -- -O
  run client 'print(c.line().strip()); c.send(b"a NOOP\r\n"); print(c.line().strip())'
  echo "$output"
  assert_success
  assert_line --index 0 "* PREAUTH stub ready"
  assert_line --index 1 "a BAD what"
}

@test "client: the client's commands before TLS are held: with a server that refuses, none reaches it; with one that accepts, they arrive inside TLS" {
  stub smtp refuse ; listener smtpc-starttls -k localhost --
  run client 'c.send(b"EHLO early\r\nMAIL FROM:<a@b>\r\n"); print(c.line().strip()); print(c.closed())'
  echo "$output"
  assert_line --index 0 --partial "421 4.7.0"
  ! grep -q "early\|MAIL" "$FAKE_LOG"
  : > "$FAKE_LOG"
  stub smtp normal ; listener smtpc-starttls -k localhost -- -h client.test
  run client 'c.send(b"EHLO early\r\n"); print(c.reply().strip()); print(repr(c.reply())); print(c.cmd("QUIT").strip())'
  echo "$output"
  assert_success
  "$PY" -c "import sys; l=open(sys.argv[1],'rb').read(); sys.exit(0 if l.index(b'tls up') < l.index(b'EHLO early') else 1)" "$FAKE_LOG"
}

@test "client: bounded: a silent server (-w), an overlong greeting line, endless 220- lines: refused, nothing left running" {
  start_server STUB_MODE=silent -- "$PY" "$SCRIPTS/stub-starttls-server.py" ; SPORT=$PORT
  listener smtpc-starttls -k localhost -- -w 300
  refused smtp "421 4.7.0 " "no reply within -w" 99
  start_server STUB_MODE=longline -- "$PY" "$SCRIPTS/stub-starttls-server.py" ; SPORT=$PORT
  listener smtpc-starttls -k localhost --
  refused smtp "421 4.7.0 " "a line longer than -l"
  start_server STUB_MODE=manylines -- "$PY" "$SCRIPTS/stub-starttls-server.py" ; SPORT=$PORT
  listener smtpc-starttls -k localhost --
  refused smtp "421 4.7.0 " "a reply of more lines than the proxy takes"
  # -w is for the whole reply: a server that trickles a byte every 0.1 s cannot stretch it
  start_server STUB_MODE=trickle -- "$PY" "$SCRIPTS/stub-starttls-server.py" ; SPORT=$PORT
  listener smtpc-starttls -k localhost -- -w 1000
  SECONDS=0
  refused smtp "421 4.7.0 " "no reply within -w" 99
  [ "$SECONDS" -lt 10 ]
  wait_sessions_gone 10
}

@test "client: inside TLS a server that floods a program that reads slowly (a pipe, partial writes): the proxy's memory stays bounded" {
  stub smtp normal
  cat > "$T/slow.py" <<'EOF'
import os, sys, time
def rss(pid):
    return int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS:")][0].split()[1])
proxy = [k for k in open("/proc/self/task/%d/children" % os.getpid()).read().split()
         if open("/proc/%s/comm" % k).read().strip() == "smtpc-starttls"][0]
os.read(6, 4096)
os.write(7, b"FLOOD\r\n")
got, rss0 = 0, None
while got < 16 << 20:
    d = os.read(6, 300)
    if not d: break
    got += len(d)
    if rss0 is None and got > 1 << 20: rss0 = rss(proxy)
    if got % 3000 < 300: time.sleep(0.0005)
rss1 = rss(proxy)
print(got, rss0, rss1)
sys.exit(0 if got >= 16 << 20 and rss1 - rss0 < 4096 else 1)
EOF
  run tagged env CAFILE="$CERTS/ca.pem" "$HB/closefds" timeout 60 tcpclient -RHl0 127.0.0.1 "$SPORT" "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/smtpc-starttls" -g 1000 -- "$PY" "$T/slow.py"
  echo "$output"
  assert_success
  # the program has gone, the server floods on: it has -g, then the session is over
  wait_sessions_gone 10
}

@test "client: -g is silence: a program that has closed its side and reads a reply slowly gets all of it, long after the server has sent it all" {
  stub smtp normal
  cat > "$T/big.py" <<'EOF'
import os, sys, time
os.read(6, 4096)
os.write(7, b"BIG 300000\r\n")
os.close(7)
buf = b""
while not buf.endswith(b"250 end\r\n"):
    d = os.read(6, 4096)
    if not d: break
    buf += d
    if len(buf) > 150000: time.sleep(0.1)  # the last 150 kB slowly: the server has sent it all by then
print(len(buf), buf[-9:])
sys.exit(0 if buf.endswith(b"250 end\r\n") and len(buf) > 300000 else 1)
EOF
  SECONDS=0
  run tagged env CAFILE="$CERTS/ca.pem" "$HB/closefds" timeout 60 tcpclient -RHl0 127.0.0.1 "$SPORT" "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/smtpc-starttls" -g 2400 -- "$PY" "$T/big.py"
  echo "$output"
  assert_success
  # it took longer than -g (about 3.7 s): only bytes moving kept the session
  [ "$SECONDS" -ge 3 ]
  wait_sessions_gone 10
}

@test "client: the server has -g after the client left (-g 0: none), while it still sends; then the session is over" {
  stub smtp stay
  listener smtpc-starttls -k localhost -- -g 300
  run client 'c.reply(); c.s.shutdown(1); print(repr(c.s.recv(100)))'
  echo "$output"
  assert_success
  wait_grep "the server did not end within -g after the client left" "$SERVER_LOG" 5
  : > "$SERVER_LOG"
  stub smtp stay
  listener smtpc-starttls -k localhost -- -g 0
  run client 'c.reply(); c.s.shutdown(1); print(repr(c.s.recv(100)))'
  assert_success
  wait_grep "the server did not end within -g after the client left" "$SERVER_LOG" 5
  wait_sessions_gone 10
}

@test "client: a sending program on descriptors 6/7 (tcpclient ... ucspitlsc ... smtpc-starttls -- prog): delivered; its exit code is the session's" {
  stub smtp normal
  cat > "$T/send.py" <<'EOF'
import os, sys
r, w = 6, 7
buf = b""
def reply():
    global buf
    while True:
        while b"\n" not in buf:
            d = os.read(r, 4096)
            if not d: sys.exit(111)
            buf += d
        line, buf = buf.split(b"\n", 1)
        if line[3:4] != b"-": return line
for cmd in (None, b"EHLO sender.test", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA"):
    if cmd: os.write(w, cmd + b"\r\n")
    l = reply()
    if l[:1] not in (b"2", b"3"): print(l); sys.exit(100)
os.write(w, b"from the program\r\n.\r\nQUIT\r\n")
print(reply().decode()); print(reply().decode())
print(sorted(os.listdir("/proc/self/fd")))
# the proxy (a child of ours) keeps our stdin and stdout no longer than we do
for k in open("/proc/self/task/%d/children" % os.getpid()).read().split():
    if open("/proc/%s/comm" % k).read().strip() == "smtpc-starttls":
        # one write, even unbuffered (PYTHONUNBUFFERED): the proxy's log lines share this pipe
        print("proxy 0 and 1: %s %s" % (os.readlink("/proc/%s/fd/0" % k), os.readlink("/proc/%s/fd/1" % k)))
sys.exit(42)
EOF
  run tagged env CAFILE="$CERTS/ca.pem" "$HB/closefds" timeout 30 tcpclient -RHl0 127.0.0.1 "$SPORT" "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/smtpc-starttls" -v 2 -- sh -c 'grep ^SigIgn: /proc/$$/status; exec "$0" "$1"' "$PY" "$T/send.py"
  echo "$output"
  [ "$status" -eq 42 ]
  [[ "$output" == *"250 2.0.0 accepted"* ]]
  [[ "$output" == *"221 2.0.0 bye"* ]]
  # the program has 0-2 and its 6/7, and never the network or the SSL descriptors
  [[ "$output" == *"['0', '1', '2', '3', '6', '7']"* ]]
  [[ "$output" == *"proxy 0 and 1: /dev/null /dev/null"* ]]
  # the program gets SIGPIPE as the proxy did, not the proxy's SIG_IGN (bit 13 of SigIgn)
  sigign=$(printf '%s\n' "$output" | sed -n 's/^SigIgn:[[:space:]]*//p')
  [ -n "$sigign" ] && [ $((0x$sigign & 0x1000)) -eq 0 ]
  grep -q "from the program" "$FAKE_LOG"
  wait_sessions_gone 10
}

@test "client: usage: not under ucspitlsc, no 6/7, a bad pin or -l: exit 100" {
  run "$UST_BIN/smtpc-starttls"
  [ "$status" -eq 100 ]
  [[ "$output" == *"not under a UCSPI-TLS controller"* ]]
  run "$UST_BIN/imapc-starttls" -p SHA256:12
  [ "$status" -eq 100 ]
  run "$UST_BIN/pop3c-starttls" -l 10
  [ "$status" -eq 100 ]
  run "$UST_BIN/pop3c-starttls" -h x
  [ "$status" -eq 100 ]
  run env SSLCTLFD=0 SSLREADFD=1 SSLWRITEFD=2 "$UST_BIN/smtpc-starttls" 6<&- 7<&-
  [ "$status" -eq 100 ]
  [[ "$output" == *"descriptors 6 and 7"* ]]
}

@test "client: each dialogue command goes out in one write (a command in pieces waits on Nagle and the server's delayed ACK)" {
  # the connection is a SOCK_SEQPACKET pair: every write of the proxy is one message here
  run tagged timeout 60 "$PY" -c '
import os, socket, subprocess, sys
bin_, ca = sys.argv[1], sys.argv[2]
cases = [("smtpc-starttls", ["-h", "h.example"], b"220 s.example ESMTP\r\n", b"EHLO h.example\r\n"),
         ("smtpc-starttls", [], b"220 s.example ESMTP\r\n", None),
         ("imapc-starttls", [], b"* OK ready\r\n", b"C1 CAPABILITY\r\n"),
         ("pop3c-starttls", [], b"+OK ready\r\n", b"CAPA\r\n")]
bad = 0
for prog, opts, greeting, want in cases:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    fd = b.detach()
    for n in (6, 7):
        if fd != n: os.dup2(fd, n)
    if fd not in (6, 7): os.close(fd)
    p = subprocess.Popen([os.path.join(bin_, "ucspitlsc"), "--", os.path.join(bin_, prog), "-w", "10000"] + opts,
                         pass_fds=(6, 7), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, CAFILE=ca, TCPLOCALIP="127.0.0.1"))
    os.close(6); os.close(7)
    a.settimeout(20)
    a.send(greeting)
    got = a.recv(4096)
    ok = got == want if want else (got.startswith(b"EHLO ") and got.endswith(b"\r\n") and got.count(b"\r\n") == 1)
    print(prog, opts, "first write:", got, "ok" if ok else "NOT ONE WRITE")
    bad += not ok
    a.close()
    p.wait(timeout=20)
sys.exit(1 if bad else 0)
' "$UST_BIN" "$CERTS/ca.pem"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "client: 2 MiB from the client to the server arrive whole and in order, from a program (pipes: spliced) and from a local client (a socket)" {
  stub smtp normal
  cat > "$T/bulk.py" <<'EOF2'
import os, socket, sys
if len(sys.argv) > 1:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
    s.settimeout(None)  # blocking: os.read and os.write on it (timeout 60 bounds the test)
    r, w = s.fileno(), s.fileno()
else:
    r, w = 6, 7
replies = open(r, "rb", closefd=False)
def reply():
    line = replies.readline()
    while line[3:4] == b"-": line = replies.readline()
    return line.rstrip() if line else sys.exit(111)
def put(data):
    while data: data = data[os.write(w, data):]
assert reply().startswith(b"220")
put(b"EHLO sender.test\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")  # PIPELINING
assert [reply()[:1] for _ in range(3)] == [b"2"] * 3
put(b"DATA\r\n")
assert reply().startswith(b"354")
# 1 MiB written at once, twice: the pipe to the engine fills, partial writes and waits
body = b"".join(b"bulk %07d %s\r\n" % (i, b"x" * 60) for i in range(2 * 1048576 // 76))
put(body[:1048576]); put(body[1048576:] + b".\r\nQUIT\r\n")
print(reply().decode()); print(reply().decode())
EOF2
  run tagged env CAFILE="$CERTS/ca.pem" "$HB/closefds" timeout 60 tcpclient -RHl0 127.0.0.1 "$SPORT" "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/smtpc-starttls" -- "$PY" "$T/bulk.py"
  echo "$output"
  [[ "$output" == *"250 2.0.0 accepted"* ]]
  listener smtpc-starttls -k localhost --
  run tagged timeout 60 "$PY" "$T/bulk.py" "$PORT"
  echo "$output"
  [[ "$output" == *"250 2.0.0 accepted"* ]]
  # both bodies, every line in order, nothing else between them
  run "$PY" -c '
import sys
got = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l.startswith(b"bulk ")]
want = [b"bulk %07d %s\r" % (i, b"x" * 60) for i in range(2 * 1048576 // 76)]
print(len(got), len(want) * 2)
sys.exit(0 if got == want + want else 1)' "$FAKE_LOG"
  echo "$output"
  assert_success
  wait_sessions_gone 10
}

@test "client: a local client's TCP urgent byte does not stall the relay: the bytes after it are delivered, no spin; with a FIN after them too" {
  # splice stops at TCP's urgent mark (EAGAIN with room in the engine's
  # pipe); the proxy must go on with read, which skips the urgent byte
  stub smtp normal
  listener smtpc-starttls -k localhost -- -t 20000
  local script='
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
f = s.makefile("rb")
def reply():
    line = f.readline()
    while line[3:4] == b"-": line = f.readline()
    return line
assert reply().startswith(b"220")
s.sendall(b"EHLO u.test\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
print([reply()[:3] for _ in range(4)])
s.sendall(b"before urgent\r\n")
s.send(b"X", socket.MSG_OOB)
s.sendall(b"after urgent %s\r\n.\r\nQUIT\r\n" % sys.argv[2].encode())
if sys.argv[2] == "then-FIN": s.shutdown(socket.SHUT_WR)  # with a FIN there, splice at the mark returns 0
t0 = time.monotonic()
print(reply(), reply(), "%.1f s" % (time.monotonic() - t0))'
  for how in no-FIN then-FIN; do
    run tagged timeout 30 "$PY" -c "$script" "$PORT" "$how"
    echo "$how: $output"
    assert_success
    [[ "$output" == *"250 2.0.0 accepted"*"221 2.0.0 bye"* ]]
    grep -q "^after urgent $how" "$FAKE_LOG"
  done
  wait_sessions_gone 10
}

#!/usr/bin/env bats
# ucspitls-check-ctl.bats: ucspitls-check -a (issue 15), run as the
# application under the controller being checked: ucspitlsd and ucspitlsc
# pass every rule, and each fixture of tests/helpers/bad-ucspitls-controller.py
# (a controller that does not clear O_NONBLOCK, one that keeps the control
# socket open after the info block) fails exactly its rule.

load helpers/common
load helpers/check

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  REPORT=$T/report
  BADCTL=$SCRIPTS/bad-ucspitls-controller.py
}

teardown() {
  ust_teardown
}

# ctl_server CONTROLLER... -- [ucspitls-check options...]: tcpserver, the
# controller, ucspitls-check -a -o $REPORT as its application.
ctl_server() {
  local ctl=()
  while [ "$1" != -- ]; do ctl+=("$1"); shift; done
  shift
  start_server "${EC[@]}" -- "${ctl[@]}" "$UST_BIN/ucspitls-check" -a -v 2 -o "$REPORT" "$@"
}

client() {
  run tagged timeout 60 env PYTHONPATH="$SCRIPTS" "$PY" "$SCRIPTS/check-client.py" --port "$PORT" --ca "$CERTS/ca.pem" "$@"
}


ALL_RULES="vars fds env handshake infoblock ctl-close session nonblock"

@test "ucspitls-check -a: ucspitlsd passes every rule, with O_NONBLOCK set on purpose before 'Y'" {
  ctl_server "$UST_BIN/ucspitlsd" --
  client --mail
  assert_success
  assert_line "TLS $TLS_VERSION"
  assert_line --regexp '^< 250 2.0.0 Accepted and discarded'
  report
  all_pass $ALL_RULES
  grep -q '^TRACE .* O_NONBLOCK set on the network descriptors, on purpose$' "$REPORT"
  grep -q "^PASS nonblock: O_NONBLOCK was set on the network socket before 'Y'; the controller had cleared it when it exec'd .*/tlsd-io$" "$REPORT"
  grep -q "^PASS infoblock: .*$TLS_VERSION" "$REPORT"
  grep -qx 'SUMMARY: 8 passed, 0 warned, 0 failed' "$REPORT"
  wait_sessions_gone 10
}

@test "ucspitls-check -a: a real client (openssl s_client -starttls smtp) through ucspitlsd" {
  ctl_server "$UST_BIN/ucspitlsd" --
  run s_client -starttls smtp <<<$'EHLO x\r\nQUIT\r'
  assert_success
  assert_output --partial "Protocol version: $TLS_VERSION"
  assert_output --partial "221 2.0.0 Bye"
  report
  others_pass
}

@test "ucspitls-check -a: swaks --tls delivers through ucspitlsd, every rule passes" {
  ctl_server "$UST_BIN/ucspitlsd" --
  run tagged timeout 60 swaks --server "127.0.0.1:$PORT" --tls --tls-ca-path "$CERTS/ca.pem" --to postmaster@example.org
  assert_success
  assert_output --partial '250 2.0.0 Accepted and discarded'
  report
  others_pass
  grep -q '^PASS session: 5 command(s) answered inside TLS, the last QUIT$' "$REPORT"
}

@test "ucspitls-check -a: the well-behaved fixture controller passes every rule" {
  ctl_server "$PY" "$BADCTL" good "$UST_BIN/tlsd-io" --
  client
  assert_success
  report
  others_pass
  grep -qx 'SUMMARY: 8 passed, 0 warned, 0 failed' "$REPORT"
}

@test "ucspitls-check -a: a controller that does not clear O_NONBLOCK fails nonblock, and only nonblock" {
  ctl_server "$PY" "$BADCTL" nonblock "$UST_BIN/tlsd-io" --
  client
  assert_success
  report
  [ "$(verdict nonblock)" = FAIL ]
  grep -q "^FAIL nonblock: O_NONBLOCK set before 'Y' was still set when the controller exec'd .*/tlsd-io: it does not clear it .*this engine worked with it all the same" "$REPORT"
  others_pass nonblock
  grep -q ', 1 failed$' "$REPORT"
}

@test "ucspitls-check -a: a controller that keeps the control socket open fails ctl-close, and only ctl-close" {
  ctl_server "$PY" "$BADCTL" keepopen "$UST_BIN/tlsd-io" -- -t 500
  client
  assert_success
  report
  [ "$(verdict ctl-close)" = FAIL ]
  grep -qF 'FAIL ctl-close: SSLCTLFD was still open 500ms after the block' "$REPORT"
  # the engine ran in a grandchild: the exec was still seen
  [ "$(verdict nonblock)" = PASS ]
  others_pass ctl-close
  grep -q ', 1 failed$' "$REPORT"
}

@test "ucspitls-check -a: under a controller that is its parent, nonblock says the exec could not be watched" {
  ctl_server "$PY" "$BADCTL" appchild "$UST_BIN/tlsd-io" --
  client
  assert_success
  report
  grep -q '^\(PASS\|WARN\) nonblock: no engine exec seen among our descendants' "$REPORT"
  others_pass nonblock
}

@test "ucspitls-check -a: a hook the controller execs before its engine (without the socket) is not taken for the engine" {
  ctl_server "$PY" "$BADCTL" hook "$UST_BIN/tlsd-io" --
  client
  assert_success
  report
  grep -q "^TRACE .* exec'd .*/true without the network socket and the engine's pipes: not the engine, still watching$" "$REPORT"
  grep -q "^PASS nonblock: .*exec'd .*/tlsd-io$" "$REPORT"
  others_pass
}

@test "ucspitls-check -a: a controller that refuses 'Y' (exit 100, no engine) fails handshake" {
  ctl_server "$PY" "$BADCTL" refuse "$UST_BIN/tlsd-io" --
  client
  assert_failure 3
  report
  grep -q "^FAIL handshake: the controller's process [0-9]* exited 100 after 'Y' with no engine exec'd, and SSLCTLFD was closed with no block: it refused 'Y'$" "$REPORT"
}

@test "ucspitls-check -a: a block over 4096 bytes fails infoblock; a forged line in a value stays inside its own line" {
  ctl_server "$PY" "$BADCTL" bigblock "$UST_BIN/tlsd-io" --
  client
  report
  grep -q '^FAIL infoblock: [0-9]* bytes: over the 4096-byte limit' "$REPORT"
  : > "$REPORT"
  ctl_server "$PY" "$BADCTL" inject "$UST_BIN/tlsd-io" --
  client
  report
  grep -q '^PASS infoblock: .* TLSv1.2 x?PASS nonblock: forged?SUMMARY: 9 passed' "$REPORT"
  [ "$(grep -c '^SUMMARY: ' "$REPORT")" = 1 ]
  ! grep -q '^PASS nonblock: forged' "$REPORT"
}

@test "ucspitls-check -a: a client that resets the connection mid-dialogue still gets its session reported (no SIGPIPE death)" {
  ctl_server "$UST_BIN/ucspitlsd" --
  run tagged timeout 30 "$PY" - "$PORT" <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"NOOP\r\n" * 20)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
EOF
  assert_success
  report
  grep -q '^WARN session: not observed: .* before STARTTLS$' "$REPORT"
  wait_sessions_gone 10
}

@test "ucspitls-check -a -n: the flag is left alone and nonblock says it was not observed" {
  ctl_server "$UST_BIN/ucspitlsd" -- -n
  client
  assert_success
  report
  grep -qF 'WARN nonblock: not observed: -n' "$REPORT"
  ! grep -q 'on purpose' "$REPORT"
  others_pass nonblock
}

# stall_client: EHLO, STARTTLS, then no handshake: waits for the server to close.
stall_client() {
  run tagged timeout 30 "$PY" - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l
reply()
s.sendall(b"EHLO x\r\n"); reply()
s.sendall(b"STARTTLS\r\n"); print(reply().decode().strip())
t = time.time()
s.settimeout(20)
try:
    while s.recv(100):
        pass
except OSError:
    pass
print("closed after %.1f s" % (time.time() - t))
EOF
}

@test "ucspitls-check -a: handshake: a controller's deadline ends a stalled handshake, and nothing else happens" {
  ctl_server "$UST_BIN/ucspitlsd" -K 1000 -- -K 10000
  stall_client
  assert_success
  assert_line '220 2.0.0 Ready to start TLS'
  report
  grep -q "^PASS handshake: no TLS session: the engine (.*/tlsd-io) ran, and SSLCTLFD was closed with no block [0-9]*ms after 'Y'" "$REPORT"
  [ "$(verdict session)" = WARN ]
  [ "$(verdict infoblock)" = WARN ]
}

@test "ucspitls-check -a: handshake: no end within -K fails (the controller's own deadline is longer)" {
  ctl_server "$UST_BIN/ucspitlsd" -K 8000 -- -K 300 -t 200
  stall_client
  report
  grep -q "^FAIL handshake: nothing on SSLCTLFD [0-9]*ms after 'Y': the controller has no handshake deadline, or a longer one than -K 300" "$REPORT"
}

@test "ucspitls-check -a: with no controller, vars fails and STARTTLS is not offered" {
  start_server -- "$UST_BIN/ucspitls-check" -a -o "$REPORT"
  client
  assert_failure 2
  assert_line --regexp '^< 454 4.7.0'
  report
  grep -q '^FAIL vars: SSLCTLFD is unset; SSLREADFD is unset; SSLWRITEFD is unset: no TLS can be asked for$' "$REPORT"
}

@test "ucspitls-check -a -c: ucspitlsc passes every rule, against ucspitlsd with ucspitls-check -a" {
  ctl_server "$UST_BIN/ucspitlsd" --
  run tagged timeout 60 "$HB/closefds" tcpclient -R -H 127.0.0.1 "$PORT" env CAFILE="$CERTS/ca.pem" \
    "$UST_BIN/ucspitlsc" -k localhost -- "$UST_BIN/ucspitls-check" -a -c -v 2 -o "$T/client-report"
  assert_success
  report "$T/client-report"
  REPORT_FILE=$T/client-report all_pass $ALL_RULES
  grep -q '^SESSION controller (client side) ' "$T/client-report"
  grep -q "^PASS nonblock: .*exec'd .*/tlsc-io$" "$T/client-report"
  report
  REPORT_FILE=$REPORT others_pass
}

@test "ucspitls-check -a: usage errors exit 100" {
  run "$UST_BIN/ucspitls-check" -a -- true
  assert_failure 100
  assert_output --partial '-a runs no program'
  run "$UST_BIN/ucspitls-check" -c -- true
  assert_failure 100
  assert_output --partial '-c and -n go with -a'
}

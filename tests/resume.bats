#!/usr/bin/env bats
# resume.bats: session resumption across engine processes (issue 18 item 2).
# BearSSL builds share a session cache file (SESSIONCACHE); every session
# is served by its own tlsd-io process under tcpserver, so a resumption seen
# by a real client (openssl s_client -sess_out/-sess_in, Python's ssl) went
# through the file. A resumed session never skips what a full one checks:
# no resumption under -y / -z, the certificate the SNI name selects, the
# lifetime, a changed certificate or policy. libtls builds refuse the
# variable at start (doc/guarantees.md says why).

load helpers/common

setup_file() {
  ust_certs
}

setup() {
  ust_setup
  EC=(CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key")
  CACHE=$T/cache/sessions
  mkdir -p "$T/cache"
  chmod 700 "$T/cache"
}

teardown() {
  ust_teardown
}

bearssl_only() {
  [ "$UST_TLS" = bearssl ] || skip "libtls builds cannot share sessions between processes (see the libtls test below)"
}

# connect NAME [ARGS...]: one immediate-TLS session (TLS 1.2) that saves its
# session to $T/NAME.sess and, when $RESUME is set, offers $T/$RESUME.sess;
# SNI name $SNI (default localhost; - for none).
connect() {
  local name=$1 in=() sni=(-servername "${SNI:-localhost}")
  shift
  [ -n "${RESUME:-}" ] && in=(-sess_in "$T/$RESUME.sess")
  [ "${SNI:-}" = - ] && sni=(-noservername)
  run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" "${sni[@]}" \
    -CAfile "$CERTS/ca.pem" -verify_return_error -tls1_2 -ign_eof -sess_out "$T/$name.sess" "${in[@]}" "$@" </dev/null
  echo "$output"
}

@test "SESSIONCACHE: a second connection, served by another engine process, resumes the first one's session" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" -- "$UST_BIN/tlsd" -v2 sh -c 'echo "hi $$"'
  RESUME= connect one
  assert_success
  assert_line --regexp '^New, TLSv1.2'
  first=$(grep -o '^hi [0-9]*' <<<"$output")
  RESUME=one connect two
  assert_success
  assert_line --regexp '^Reused, TLSv1.2'
  second=$(grep -o '^hi [0-9]*' <<<"$output")
  [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]
  wait_grep 'session ended: tls TLSv1.2 .* resumed: ' "$SERVER_LOG" 10
  wait_grep 'tls established with 127.0.0.1: TLSv1.2 .* resumed$' "$SERVER_LOG" 10
  [ "$(grep -c ' resumed: ' "$SERVER_LOG")" = 1 ]
  run stat -c %a "$CACHE"
  assert_output 600
}

@test "SESSIONCACHE: Python's ssl reuses a session across two connections (and STARTTLS under ucspitlsd resumes too)" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" -- "$UST_BIN/tlsd" echo hi
  run tagged timeout 20 "$PY" - "$PORT" "$CERTS/ca.pem" <<'EOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
session = None
for i in range(2):
    with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            print("line", s.recv(100).decode().strip(), "reused" if s.session_reused else "new")
            session = s.session
EOF
  echo "$output"
  assert_success
  assert_line 'line hi new'
  assert_line 'line hi reused'
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" -- "$UST_BIN/ucspitlsd" -v2 -- "$UST_BIN/smtpd-starttls" -- "$PY" "$SCRIPTS/fake-smtpd.py"
  for name in s1 s2; do
    run tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -CAfile "$CERTS/ca.pem" \
      -verify_return_error -tls1_2 -sess_out "$T/$name.sess" $([ "$name" = s2 ] && echo -sess_in "$T/s1.sess") <<<$'QUIT\r'
    echo "$output"
    assert_success
  done
  assert_line --regexp '^Reused, TLSv1.2'
}

@test "SESSIONCACHE: a session made without -y is not resumed under -Y or -y (a client certificate is checked in every session)" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" -- "$UST_BIN/tlsd" echo hi
  RESUME= connect one
  assert_success
  RESUME=one connect check
  assert_line --regexp '^Reused'
  for opt in -Y -y; do
    start_server "${EC[@]}" CAFILE="$CERTS/ca.pem" SESSIONCACHE="$CACHE" -- "$UST_BIN/tlsd" $opt echo hi
    RESUME=one connect "two$opt" -cert "$CERTS/client.pem" -key "$CERTS/client.key"
    assert_success
    assert_line --regexp '^New, TLSv1.2'
    assert_line hi
    # and under -y, the offered session does not let a client without a certificate in
    if [ "$opt" = -y ]; then
      RESUME=one connect three
      refute_line hi
      refute_line --regexp '^Reused'
    fi
  done
  # nor is a session made under -Y kept for later
  RESUME="two-Y" connect four
  assert_line --regexp '^New, TLSv1.2'
}

@test "SESSIONCACHE: a resumed session must ask for the name its certificate was chosen for; others are refused" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" \
    "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" \
    "CERTFILE:other.example.org=$CERTS/other.pem" "KEYFILE:other.example.org=$CERTS/other.key" \
    -- "$UST_BIN/tlsd" -v1 echo hi
  SNI=mail.example.org RESUME= connect mail
  assert_success
  assert_line hi
  SNI=mail.example.org RESUME=mail connect again
  assert_success
  assert_line --regexp '^Reused'
  assert_line hi
  SNI=other.example.org RESUME=mail connect other
  refute_line hi
  wait_grep 'a resumed session names another server \(other.example.org\) than the certificate it was made with: refused' "$SERVER_LOG" 10
  # refused once, the session is gone: the next offer gets a full handshake
  SNI=mail.example.org RESUME=mail connect yetagain
  assert_success
  assert_line --regexp '^New, TLSv1.2'
  assert_line hi
  # a full handshake for that name still works
  SNI=other.example.org RESUME= connect other2
  assert_success
  assert_line hi
  assert_output --partial 'CN = other.example.org'
}

@test "SESSIONCACHE: one certificate under several names (and as the default) resumes under each" {
  bearssl_only
  start_server CERTFILE="$CERTS/mail.pem" KEYFILE="$CERTS/mail.key" SESSIONCACHE="$CACHE" \
    "CERTFILE:mail.example.org=$CERTS/mail.pem" "KEYFILE:mail.example.org=$CERTS/mail.key" \
    "CERTFILE:smtp.example.org=$CERTS/mail.pem" "KEYFILE:smtp.example.org=$CERTS/mail.key" \
    -- "$UST_BIN/tlsd" echo hi
  # made with no name: the default pair
  SNI=- RESUME= connect none
  assert_success
  assert_line hi
  for name in mail.example.org smtp.example.org -; do
    SNI=$name RESUME=none connect "again$name"
    assert_line --regexp '^Reused'
    assert_line hi
  done
}

@test "SESSIONCACHE: a session past SESSION_LIFETIME, or made under another certificate or policy, gets a full handshake" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" SESSION_LIFETIME=60 -- "$UST_BIN/tlsd" echo hi
  RESUME= connect one
  assert_success
  # age every cached session by 61 seconds (the slot's creation time, doc/guarantees.md)
  run "$PY" - "$CACHE" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
n = 0
for off in range(0, len(data), 128):
    if data[off:off + 8] == b"ustsc1\n\0":
        t, = struct.unpack(">Q", data[off + 8:off + 16])
        data[off + 8:off + 16] = struct.pack(">Q", t - 61)
        n += 1
open(sys.argv[1], "wb").write(data)
print("aged", n)
EOF
  assert_output 'aged 1'
  RESUME=one connect two
  assert_success
  assert_line --regexp '^New, TLSv1.2'
  assert_line hi
  # and its secret is gone from the file: only the new session is there
  run "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); print("entries", sum(d[o:o + 8] == b"ustsc1\n\0" for o in range(0, len(d), 128)))' "$CACHE"
  assert_output 'entries 1'
  # the same cache, a new certificate: the session made under the old one is not resumed
  RESUME=two connect three
  assert_line --regexp '^Reused'
  start_server CERTFILE="$CERTS/server-rsa.pem" KEYFILE="$CERTS/server-rsa.key" SESSIONCACHE="$CACHE" -- "$UST_BIN/tlsd" echo hi
  RESUME=two connect four
  assert_success
  assert_line --regexp '^New, TLSv1.2'
  # the same certificate under another cipher policy: not resumed either
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" TLS_CIPHERS=strict -- "$UST_BIN/tlsd" echo hi
  RESUME=two connect five
  assert_success
  assert_line --regexp '^New, TLSv1.2'
}

@test "SESSIONCACHE: a file others can read, a symbolic link: refused at start" {
  bearssl_only
  : > "$CACHE" && chmod 644 "$CACHE"
  # the controllers check it at start (100); tlsd's engine checks it before any byte is read (96, a TLS configuration file)
  for prog in ucspitlsd:100 tlsd:96; do
    run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" "$UST_BIN/${prog%:*}" true </dev/null
    echo "$output"
    assert_failure "${prog#*:}"
    assert_output --partial "SESSIONCACHE $CACHE: group or others have access to it"
  done
  run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" "$UST_BIN/smtpd-starttls" -C true </dev/null
  assert_failure 100
  assert_output --partial "-C: bad TLS environment: SESSIONCACHE $CACHE: group or others"
  # a hard link to another file (say, one root keeps secret) is not written into
  rm "$CACHE" && : > "$T/cache/other" && chmod 600 "$T/cache/other" && ln "$T/cache/other" "$CACHE"
  run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" "$UST_BIN/ucspitlsd" true </dev/null
  assert_failure 100
  assert_output --partial "other hard links"
  rm "$CACHE" && ln -s /etc/passwd "$CACHE"
  run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" "$UST_BIN/ucspitlsd" true </dev/null
  assert_failure 100
  assert_output --partial "symbolic link"
  # the engine alone refuses them too (96: a TLS configuration file)
  run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" "$UST_BIN/tlsd-io" 0 1 </dev/null
  assert_failure 96
  assert_output --partial "symbolic link"
}

@test "SESSION_LIFETIME: a bad value exits 100 at start, on both backends" {
  for bad in 0 59 86401 1h -5 x; do
    run tagged timeout 10 env "${EC[@]}" SESSION_LIFETIME="$bad" "$UST_BIN/ucspitlsd" true </dev/null
    assert_failure 100
    assert_output --partial "SESSION_LIFETIME: must be a number of seconds from 60 to 86400"
  done
}

@test "SESSIONCACHE and SESSION_LIFETIME are TLS configuration: the application does not see them" {
  bearssl_only
  start_server "${EC[@]}" SESSIONCACHE="$CACHE" SESSION_LIFETIME=600 -- "$UST_BIN/tlsd" sh -c 'echo "vars:${SESSIONCACHE-unset}:${SESSION_LIFETIME-unset}"'
  RESUME= connect one
  assert_success
  assert_line vars:unset:unset
}

@test "SESSIONCACHE in a libtls build: a clear error and exit 100 at start, never a silent full handshake" {
  [ "$UST_TLS" = libtls ] || skip "BearSSL builds have SESSIONCACHE"
  for prog in "ucspitlsd true" "tlsd true" "tlsd-io 0 1"; do
    run tagged timeout 10 env "${EC[@]}" SESSIONCACHE="$CACHE" $UST_BIN/$prog </dev/null
    echo "$output"
    assert_failure 100
    assert_output --partial "SESSIONCACHE: this build's TLS backend (libtls) cannot resume sessions across processes"
  done
  [ ! -e "$CACHE" ]
}

# ---------------------------------------------------------------- client side: SESSIONFILE

# start_gnutls_serv: a third-party TLS 1.2 echo server that keeps sessions
# (gnutls-serv, one process for every connection); sets PORT and GSERV_OUT.
start_gnutls_serv() {
  local pid
  GSERV_OUT=$T/gnutls-serv.out
  # exec'd down to gnutls-serv itself: $! is its pid
  (exec env UST_TAG="$UST_TAG" "$HB/closefds" gnutls-serv --x509certfile "$CERTS/server-ec.pem" --x509keyfile "$CERTS/server-ec.key" \
    -p 0 --echo --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2' >"$GSERV_OUT" 2>&1 </dev/null) &
  pid=$!
  SERVER_PIDS+=("$pid")
  # its port: gnutls-serv says "listening on IPv4 0.0.0.0 port 0...done" once
  # it listens; the IPv4 socket has the real port (its inode among the
  # process's fds, in /proc/net/tcp)
  wait_grep 'IPv4 .*done' "$GSERV_OUT" 10 || return 1
  PORT=$("$PY" - "$pid" <<'PYEOF'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    f = line.split()
    if f[3] == "0A" and f[9] in inodes:
        print(int(f[1].split(":")[1], 16))
        break
PYEOF
)
  [ -n "$PORT" ]
}

# client_session [ENV...]: one tlsc session to $PORT with SESSIONFILE=$T/client.sess, -k localhost unless NAME=-.
client_session() {
  local k=(-k localhost)
  [ "${NAME:-}" = - ] && k=()
  run tcp_client env CAFILE="${CA:-$CERTS/ca.pem}" SESSIONFILE="$T/client.sess" "$@" "$UST_BIN/tlsc" -v2 "${k[@]}" -- sh -c 'echo hello >&7; head -n1 <&6'
  echo "$output"
}

@test "SESSIONFILE: tlsc resumes its last session with a third-party server (gnutls-serv), in a new process" {
  command -v gnutls-serv >/dev/null || skip "gnutls-serv not installed (Debian gnutls-bin)"
  start_gnutls_serv
  client_session
  assert_success
  assert_line hello
  assert_line --regexp '^tlsc-io: info: tls established with .*TLSv1.2 .*sni=localhost peer=SHA256:[0-9a-f]{64}$'
  run stat -c %a "$T/client.sess"
  assert_output 600
  client_session
  assert_success
  assert_line hello
  assert_line --regexp '^tlsc-io: info: tls established with .*TLSv1.2 .* resumed$'
  [ "$(grep -c 'This is a resumed session' "$GSERV_OUT")" = 1 ]
}

@test "SESSIONFILE: never offered for another server name, another trust store or past SESSION_LIFETIME" {
  command -v gnutls-serv >/dev/null || skip "gnutls-serv not installed (Debian gnutls-bin)"
  start_gnutls_serv
  client_session
  assert_success
  # another -k (none here: the chain is still verified): a full handshake
  NAME=- client_session
  assert_success
  refute_output --partial resumed
  # the file keeps one session: now the unnamed one, not offered for localhost either
  client_session
  assert_success
  refute_output --partial resumed
  client_session
  assert_success
  assert_output --partial resumed
  # a trust store changed in place (a CA added or removed): a full handshake
  cp "$CERTS/ca.pem" "$T/ca.pem"
  CA=$T/ca.pem client_session
  assert_success
  refute_output --partial resumed
  CA=$T/ca.pem client_session
  assert_output --partial resumed
  touch -d '1 hour ago' "$T/ca.pem"
  CA=$T/ca.pem client_session
  assert_success
  refute_output --partial resumed
  # the kept session made 61 s ago, SESSION_LIFETIME=60 (the file's format: doc/guarantees.md)
  run "$PY" - "$T/client.sess" <<'PYEOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
assert data[:8] == b"ustcs1\n\0", data[:8]
t, = struct.unpack(">Q", data[8:16])
data[8:16] = struct.pack(">Q", t - 61)
open(sys.argv[1], "wb").write(data)
PYEOF
  assert_success
  CA=$T/ca.pem client_session SESSION_LIFETIME=60
  assert_success
  refute_output --partial resumed
  [ "$(grep -c 'This is a resumed session' "$GSERV_OUT")" = 2 ]
}

@test "SESSIONFILE: on a server, SESSIONCACHE on a client, a file others can read: exit 100 at start" {
  run tagged timeout 10 env "${EC[@]}" SESSIONFILE="$T/s" "$UST_BIN/ucspitlsd" true </dev/null
  assert_failure 100
  assert_output --partial "SESSIONFILE is for TLS clients"
  run tagged timeout 10 env CAFILE="$CERTS/ca.pem" SESSIONCACHE="$T/s" "$UST_BIN/ucspitlsc" true </dev/null
  assert_failure 100
  assert_output --partial "SESSIONCACHE is for TLS servers"
  : > "$T/open" && chmod 604 "$T/open"
  run tagged timeout 10 env CAFILE="$CERTS/ca.pem" SESSIONFILE="$T/open" "$UST_BIN/ucspitlsc" true </dev/null
  assert_failure 100
  assert_output --partial "SESSIONFILE $T/open: group or others have access to it"
  run tagged timeout 10 env CAFILE="$CERTS/ca.pem" SESSIONFILE="$T/open" "$UST_BIN/tlsc-io" -k localhost 0 1 </dev/null
  assert_failure 96
  assert_output --partial "group or others have access to it"
}

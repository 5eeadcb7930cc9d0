#!/usr/bin/env bats
# examples.bats: the programs and scripts under examples/ do what they say.

load helpers/common

setup() {
  ust_setup
}

teardown() {
  ust_teardown
}

@test "examples/starttls-echo: cleartext echo, STARTTLS, then echo inside TLS" {
  start_server -- env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" "$UST_BIN/ucspitlsd" -- "$UST_EXAMPLES/starttls-echo"
  run timeout 10 "$PY" - "$PORT" "$CERTS/ca.pem" <<'PY'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
assert f.readline() == b"hello, STARTTLS available\r\n"
s.sendall(b"plain\r\n"); assert f.readline() == b"plain\r\n"
s.sendall(b"STARTTLS\r\n"); assert f.readline() == b"ready\r\n"
t = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(s, server_hostname="localhost")
tf = t.makefile("rb")
print(tf.readline().decode().strip())
t.sendall(b"secret\r\n"); assert tf.readline() == b"secret\r\n"
t.sendall(b"QUIT\r\n"); assert tf.readline() == b"bye\r\n"
print("done")
PY
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"tls: TLSv1."*"done"* ]]
}

@test "examples/starttls-echo: without a controller it says so and never offers TLS" {
  start_server -- "$UST_EXAMPLES/starttls-echo"
  run timeout 10 "$PY" -c "
import socket
s = socket.create_connection(('127.0.0.1', $PORT), timeout=5)
f = s.makefile('rb')
print(f.readline().decode().strip())
s.sendall(b'STARTTLS\r\n'); print(f.readline().decode().strip())
"
  [ "$status" -eq 0 ]
  [[ "$output" == *"no TLS here"*"STARTTLS"* ]]
}

@test "examples/demo --selftest: SMTP through exim delivers over STARTTLS; IMAP and POP3 complete STARTTLS/STLS" {
  [ -x /usr/sbin/exim4 ] && [ -x /usr/sbin/imap4d ] || skip "exim4 or imap4d not installed"
  # three free ports in a row: the demo uses PORT, PORT+1, PORT+2
  port=$("$PY" -c '
import socket, random
while True:
    p = random.randrange(20000, 60000)
    try:
        ss = [socket.socket() for _ in range(3)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", p + i))
        print(p); break
    except OSError:
        pass
    finally:
        for s in ss: s.close()')
  dir=$(mktemp -d /tmp/ust-demo.XXXXXX) && chmod 755 "$dir"   # exim drops to its own user
  run timeout 120 env DEMO_BIN="$UST_BIN" DEMO_DIR="$dir/demo" PORT="$port" "$UST_SRC/examples/demo" --selftest
  rm -rf "$dir"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"swaks --server 127.0.0.1 --port $port --tls"* ]]
  [[ "$output" == *"openssl s_client -starttls smtp"* ]]
  [[ "$output" == *"220 2.0.0 Ready to start TLS"* ]]
  [[ "$output" == *"selftest: message delivered"* ]]
  [[ "$output" == *"selftest: IMAP STARTTLS done, TLSv1."* ]]
  [[ "$output" == *"selftest: POP3 STLS done, TLSv1."* ]]
}

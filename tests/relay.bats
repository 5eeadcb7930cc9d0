#!/usr/bin/env bats
# relay.bats: the engine's relay at the edges of its buffers, through tlsd
# and through the STARTTLS proxy's direct handoff.

load helpers/common

setup() {
  ust_setup
}

teardown() {
  ust_teardown
}

# The application: reads exactly $1 bytes, then answers how many it got.
counting_app() {
  cat > "$T/count.py" <<'PY'
import os, sys
want, got = int(sys.argv[1]), 0
while got < want:
    d = os.read(0, 65536)
    if not d:
        break
    got += len(d)
os.write(1, b"got %d\n" % got)
PY
}

# A client that, with the engine stopped, sends a 1000-byte record and then
# 65536 bytes (four 16 KiB records), so that the engine's first pass fills
# its 64 KiB buffer in the middle of the last record; then it waits for the
# application's answer. An engine that polls the socket before reading the
# rest of that record from the TLS layer waits for input that never comes.
split_record_client() {
  tagged timeout 30 "$PY" - "$PORT" "$CERTS/ca.pem" <<'PY'
import os, signal, socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
tag = ("UST_TAG=" + os.environ["UST_TAG"]).encode()
def engine():
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and tag in open("/proc/%s/environ" % p, "rb").read().split(b"\0") \
               and open("/proc/%s/comm" % p).read().strip() == "tlsd-io":
                return int(p)
        except OSError:
            pass
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
t = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
pid = engine()
os.kill(pid, signal.SIGSTOP)
try:
    t.sendall(b"x" * 1000)
    t.sendall(b"y" * 65536)
    time.sleep(0.3)   # lets the records reach the stopped engine's socket (not a synchronisation)
finally:
    os.kill(pid, signal.SIGCONT)
t.settimeout(5)
print(t.recv(100).decode().strip())
PY
}

@test "relay: a record cut at the end of the engine's buffer is delivered at once (tlsd)" {
  counting_app
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" -- "$UST_BIN/tlsd" "$PY" "$T/count.py" 66536
  run split_record_client
  echo "$output"
  assert_success
  assert_output "got 66536"
}

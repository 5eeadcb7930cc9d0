#!/usr/bin/env bats
# load.bats: many concurrent sessions through tcpserver + ucspitlsd +
# smtpd-starttls, half with STARTTLS, half in cleartext, each with a message
# of its own (tests/helpers/loadgen.py, asyncio). The backend is
# tests/helpers/sink-smtpd.py, which stores each body as received. Every
# message must arrive byte-exact, every reply must be read (QUIT's 221 by
# every client), all sessions must be open at once, and afterwards no
# process of ours may remain. 500 sessions in plain builds; sanitizer builds
# (UST_SANITIZERS=1) run 200, to stay within about a minute per build.

load helpers/common

setup() {
  ust_setup
  SINK=$T/sink
  mkdir -p "$SINK"
}

teardown() {
  ust_teardown
}

if [ "${UST_SANITIZERS:-0}" = 1 ]; then LOAD_N=200; else LOAD_N=500; fi

# load_server: tcpserver with room for all the sessions (-c, -b), ucspitlsd
# and smtpd-starttls in front of the sink.
load_server() {
  local portfile
  portfile=$(mktemp "$T/port.XXXXXX")
  env CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" SINK_DIR="$SINK" UST_TAG="$UST_TAG" \
    "$HB/closefds" tcpserver -1 -R -H -l0 -c $((LOAD_N + 100)) -b $((LOAD_N + 100)) 127.0.0.1 0 \
    "$UST_BIN/ucspitlsd" -K 120000 -- "$UST_BIN/smtpd-starttls" -v 0 -t 300000 -- "$PY" -S -E "$SCRIPTS/sink-smtpd.py" \
    >"$portfile" 2>>"$SERVER_LOG" </dev/null &
  SERVER_PIDS+=("$!")
  wait_file "$portfile" 10 || return 1
  PORT=$(head -n1 "$portfile")
}

@test "load: $LOAD_N concurrent sessions, STARTTLS and cleartext mixed: every message byte-exact, every 221 read, nothing left" {
  load_server
  start=$SECONDS
  # The test is about correctness under concurrency, not speed: a session
  # that loses a reply hangs, and any deadline catches it. So the deadlines
  # are generous: on 2 shared cores, 500 handshakes and 500 Python backends
  # under a sanitizer (or beside a fuzzer) took over a minute; the speed is
  # make bench's to report.
  run tagged timeout 300 "$PY" "$SCRIPTS/loadgen.py" --port "$PORT" --ca "$CERTS/ca.pem" --sink "$SINK" --n "$LOAD_N" --timeout 240
  echo "$output"
  echo "took $((SECONDS - start)) s"
  assert_success
  assert_line --partial "sessions $LOAD_N: ok $LOAD_N (tls $((LOAD_N / 2)), cleartext $((LOAD_N / 2))), failed 0; all $LOAD_N open at once: True; messages intact $LOAD_N"
  [ "$(ls "$SINK" | wc -l)" -eq "$LOAD_N" ]
  # every session ends by itself: proxies, engines, controller children, backends
  wait_sessions_gone 60
  # and nothing was logged at -v 0 but errors: there should be none
  ! grep -E 'fatal|warning' "$SERVER_LOG"
}

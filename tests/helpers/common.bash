# common.bash: what every test file shares: the programs under test, the test
# PKI, servers on free ports with readiness waits, process bookkeeping, and
# bounded waits. Load it from a .bats file with: load helpers/common
#
# Environment (set by `make check`): UST_BIN (programs), UST_HELPERS (compiled
# helpers), UST_TLS (bearssl|libtls), UST_SRC (source tree).
#
# Every process a test starts carries UST_TAG=<unique> in its environment
# (through the `tagged` prefix or start_server), so the test can find what is
# still running (/proc/*/environ) and teardown can prove that nothing of ours
# survives a test.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${UST_BIN:?set UST_BIN to the directory of the programs under test}"
: "${UST_HELPERS:?set UST_HELPERS to the directory of the compiled test helpers}"
: "${UST_TLS:?set UST_TLS to bearssl or libtls}"
: "${UST_SRC:?set UST_SRC to the source tree}"

SCRIPTS=$UST_SRC/tests/helpers        # helper scripts (python, sh)
HB=$UST_HELPERS                       # compiled helpers
# Debian's python3 when there is one: the README's machine has it (deps.sh
# installs it), and its ssl module differs from other builds (it ignores an
# unexpected EOF by default); a test must see here what it sees there.
if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=${PYTHON:-python3}; fi
export PYTHONDONTWRITEBYTECODE=1      # no __pycache__ in the source tree

# The protocol version each backend negotiates with a modern client.
case "$UST_TLS" in
  bearssl) TLS_VERSION=TLSv1.2 ;;
  libtls) TLS_VERSION=TLSv1.3 ;;
  *) echo "UST_TLS must be bearssl or libtls, not $UST_TLS" >&2; return 1 ;;
esac

# ---------------------------------------------------------------- PKI

# Generates the test PKI once per `bats` run (shared by all files; flock keeps
# parallel files from racing) and exports CERTS, its directory.
ust_certs() {
  local base=${BATS_RUN_TMPDIR:-$BATS_FILE_TMPDIR}
  export CERTS=$base/certs
  flock "$base/certs.lock" "$SCRIPTS/mkcerts.sh" "$CERTS" >&2
}

# ---------------------------------------------------------------- setup / teardown

# Call from setup(): a fresh tag, and the PKI.
ust_setup() {
  ust_certs
  UST_TAG="ust-$$-${BATS_TEST_NUMBER:-0}-$RANDOM$RANDOM"
  T=$BATS_TEST_TMPDIR
  SERVER_PIDS=()
  export SERVER_LOG=$T/server.log
  : > "$SERVER_LOG"
}

# Call from teardown(): stops the servers, then checks that every process of
# this test has ended by itself (bounded); kills and reports any straggler,
# which fails the test.
ust_teardown() {
  local pid left
  if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "$SERVER_LOG" ]; then
    echo "--- server log (the test failed)"
    cat "$SERVER_LOG"
  fi
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  if ! wait_gone 5; then
    left=$(describe_pids $(tagged_pids))
    kill_tagged
    echo "processes still running after the test (killed now):" >&2
    echo "$left" >&2
    echo "--- server log" >&2
    cat "$SERVER_LOG" >&2
    return 1
  fi
}

# tagged CMD...: runs CMD with this test's tag in its environment.
tagged() { env UST_TAG="$UST_TAG" "$@"; }

# ---------------------------------------------------------------- processes

# PIDs of the live (non-zombie) processes carrying this test's tag.
tagged_pids() {
  local f pid
  for f in $(grep -lzx "UST_TAG=$UST_TAG" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && continue
    [ -e "/proc/$pid" ] && echo "$pid"
  done
}

# Tagged processes other than the servers: the sessions.
session_pids() {
  local pid s skip
  for pid in $(tagged_pids); do
    skip=
    for s in "${SERVER_PIDS[@]}"; do [ "$pid" = "$s" ] && skip=1; done
    [ -z "$skip" ] && echo "$pid"
  done
  # the status is not the last test's: a server listed last (the glob
  # sorts pids as strings) made wait_sessions_gone return at once
  return 0
}

# Tagged processes whose command name is $1 (e.g. tlsd-io).
pids_named() {
  local pid
  for pid in $(tagged_pids); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && echo "$pid"
  done
}

describe_pids() {
  local pid
  for pid in "$@"; do
    printf '%s %s: %s\n' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)" \
      "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
  done
}

kill_tagged() {
  local pid
  for pid in $(tagged_pids); do kill -KILL "$pid" 2>/dev/null; done
}

# wait_gone SECONDS: waits until no tagged process is left.
wait_gone() {
  local end=$((SECONDS + ${1:-5}))
  while [ -n "$(tagged_pids)" ]; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}

# wait_sessions_gone SECONDS: waits until only the servers are left; on
# timeout shows the survivors and fails.
wait_sessions_gone() {
  local end=$((SECONDS + ${1:-5})) left
  while left=$(session_pids) && [ -n "$left" ]; do
    if [ $SECONDS -ge $end ]; then
      echo "still running:" >&2
      describe_pids $left >&2
      return 1
    fi
    sleep 0.05
  done
}

# wait_pid_named NAME SECONDS: prints the pid of the first tagged NAME process.
wait_pid_named() {
  local end=$((SECONDS + ${2:-5})) p
  while :; do
    p=$(pids_named "$1" | head -n1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    [ $SECONDS -ge $end ] && return 1
    sleep 0.02
  done
}

# fd_list PID: "0 1 2 ..." (the open descriptors of PID, sorted).
fd_list() {
  ls "/proc/$1/fd" 2>/dev/null | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# fd_target PID FD: what the descriptor is (socket:[n], pipe:[n], a path).
fd_target() { readlink "/proc/$1/fd/$2"; }

# ---------------------------------------------------------------- waits

# wait_file FILE [SECONDS]: until FILE exists and is non-empty.
wait_file() {
  local end=$((SECONDS + ${2:-10}))
  until [ -s "$1" ]; do
    [ $SECONDS -ge $end ] && { echo "timed out waiting for $1" >&2; return 1; }
    sleep 0.02
  done
}

# wait_grep PATTERN FILE [SECONDS]: until FILE has a line matching PATTERN (grep -E).
wait_grep() {
  local end=$((SECONDS + ${3:-10}))
  until grep -qE -- "$1" "$2" 2>/dev/null; do
    [ $SECONDS -ge $end ] && { echo "timed out waiting for /$1/ in $2:" >&2; cat "$2" >&2 2>/dev/null; return 1; }
    sleep 0.02
  done
}

# ---------------------------------------------------------------- servers

# start_server [NAME=VALUE...] [--] PROG...: runs `tcpserver 127.0.0.1 0 PROG...`
# in the background on a free port, with only fds 0-2 open, the NAME=VALUE
# assignments and the tag in its environment, its stderr (and every
# session's) in $SERVER_LOG. Waits until it listens; sets PORT and appends its
# pid to SERVER_PIDS.
start_server() {
  local assign=() portfile
  while [ $# -gt 0 ]; do
    case "$1" in
      --) shift; break ;;
      *=*) assign+=("$1"); shift ;;
      *) break ;;
    esac
  done
  portfile=$(mktemp "$T/port.XXXXXX")
  env "${assign[@]}" UST_TAG="$UST_TAG" "$HB/closefds" \
    tcpserver -1 -R -H -l0 -c 200 127.0.0.1 0 "$@" >"$portfile" 2>>"$SERVER_LOG" </dev/null &
  SERVER_PIDS+=("$!")
  wait_file "$portfile" 10 || { cat "$SERVER_LOG" >&2; return 1; }
  PORT=$(head -n1 "$portfile")
  [ -n "$PORT" ] || return 1
}

# start_s_server [openssl s_server options...]: `openssl s_server` on a free
# port for one connection; output in $T/s_server.out; sets PORT.
start_s_server() {
  local out=$T/s_server.out
  : > "$out"
  tagged "$HB/closefds" timeout 30 openssl s_server -accept 127.0.0.1:0 -naccept 1 "$@" >"$out" 2>&1 </dev/null &
  SERVER_PIDS+=("$!")
  wait_grep '^ACCEPT ' "$out" 10 || return 1
  PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$out" | head -n1)
  [ -n "$PORT" ]
}

# ---------------------------------------------------------------- clients

# tls_client ARGS...: the python immediate-TLS client against $PORT, CA = test CA.
tls_client() {
  tagged timeout 60 "$PY" "$SCRIPTS/tls-client.py" --port "$PORT" --ca "$CERTS/ca.pem" "$@"
}

# starttls_client ARGS...: the python STARTTLS client for ucspitls-app.
starttls_client() {
  tagged timeout 60 "$PY" "$SCRIPTS/starttls-client.py" --port "$PORT" --ca "$CERTS/ca.pem" "$@"
}

# s_client ARGS...: openssl s_client, non-interactive (stdin is what the test
# gives; -ign_eof: read until the server closes), bounded.
s_client() {
  tagged timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" \
    -verify_return_error -brief -ign_eof "$@"
}

# tcp_client PROG...: tcpclient to $PORT running PROG (network on 6/7), bounded.
tcp_client() {
  tagged timeout 60 tcpclient -R -H -l0 127.0.0.1 "$PORT" "$@"
}

# server_env_script: a server program that prints its TLS facts and the
# visibility of the TLS configuration variables, then exits.
SHOWENV=$SCRIPTS/showenv.sh

# A file of N pseudo-random bytes, made once per file: data_file NAME BYTES.
data_file() {
  local f=$BATS_FILE_TMPDIR/$1
  [ -f "$f" ] || head -c "$2" /dev/urandom > "$f"
  echo "$f"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

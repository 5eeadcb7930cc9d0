# proxy.bash: what the proxy suites (smtp, imap, pop3) share. Load after
# helpers/common.

# Call from setup(): the common setup, the python helpers, the backend's byte log.
proxy_setup() {
  ust_setup
  export PYTHONPATH=$SCRIPTS
  FAKE_LOG=$T/backend.bytes
  : > "$FAKE_LOG"
}

# proxy_server PROXY FAKE [proxy options...]: PROXY under tcpserver + ucspitlsd
# in front of the recording fake backend FAKE ($FAKE_MODE picks its behaviour).
proxy_server() {
  local proxy=$1 fake=$2
  shift 2
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_MODE="${FAKE_MODE:-normal}" \
    -- "$UST_BIN/ucspitlsd" -K 5000 -- "$UST_BIN/$proxy" -v 2 "$@" -- "$PY" "$SCRIPTS/$fake"
}

# own_proxy_server PROXY FAKE [proxy options...]: PROXY -C (its own
# controller, no ucspitlsd) under tcpserver in front of FAKE.
own_proxy_server() {
  local proxy=$1 fake=$2
  shift 2
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" FAKE_LOG="$FAKE_LOG" FAKE_MODE="${FAKE_MODE:-normal}" \
    FAKE_ENV="$T/backend.env" -- "$UST_BIN/$proxy" -C -v 2 "$@" -- "$PY" "$SCRIPTS/$fake"
}

# py 'python code': runs code with c = a smtptest.Client connected to $PORT,
# CA = the test CA, and the smtptest helpers imported.
py() {
  tagged timeout 30 "$PY" -c "
import smtptest, sys
from smtptest import until_tag, multiline
CA = '$CERTS/ca.pem'
c = smtptest.Client($PORT)
$1"
}

# exim4 -bs as the backend, delivering to a maildir. Run by root with -C, exim
# drops to its own user: its directory must be reachable by that user.
exim_server() {
  local user=Debian-exim
  [ "$(id -u)" = 0 ] || user=$(id -un)
  EXIM_DIR=$(mktemp -d /tmp/ust-exim.XXXXXX)
  chmod 755 "$EXIM_DIR"
  ln -s "$EXIM_DIR" "$T/exim"
  mkdir -p "$T/exim/spool" "$T/exim/log" "$T/exim/maildir"
  chown "$user" "$T/exim/spool" "$T/exim/log" "$T/exim/maildir" 2>/dev/null || true
  cat > "$T/exim/exim.conf" <<CONF
primary_hostname = exim.test
spool_directory = $EXIM_DIR/spool
log_file_path = $EXIM_DIR/log/%slog
domainlist local_domains = *
acl_smtp_rcpt = accept
acl_smtp_data = accept
begin routers
all:
  driver = accept
  transport = maildir
begin transports
maildir:
  driver = appendfile
  directory = $EXIM_DIR/maildir
  maildir_format
  user = $user
CONF
  chmod 644 "$T/exim/exim.conf"
  start_server CERTFILE="$CERTS/server-ec.pem" KEYFILE="$CERTS/server-ec.key" \
    -- "$UST_BIN/ucspitlsd" -- "$UST_BIN/smtpd-starttls" "$@" -- /usr/sbin/exim4 -C "$EXIM_DIR/exim.conf" -bs -odi
}

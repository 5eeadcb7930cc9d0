# examples/tcpserver/common.sh: what the tcpserver examples share. Sourced.
# The scripts are bash, not sh: dash drops variables such as CERTFILE:name
# (SNI pairs) from the environment it passes on.
# Every setting can be overridden from the environment:
#   IP, PORT           where to listen (IP defaults to 0: every address)
#   CERTFILE, KEYFILE  the server's certificate chain and key (PEM or DER)
#   TLS_UID, TLS_GID   the TLS engine drops to these once the key is read
#   TLS_CIPHERS        strict (AEAD only: the submission and mail access
#                      scripts' default, RFC 8314 and BCP 195) or compat (the
#                      engine's default, kept on port 25: RFC 7435)
#   RUN_AS             user the proxy and the mail server run as (setpriv);
#                      empty: no change (they run as the caller)
#   BACKEND            the plaintext server command, replacing the default
#   UST_BIN            where the ucspi-starttls programs are (default: PATH)
#   MAXCONN            tcpserver -c (default 100)
set -eu
: "${IP:=0}" "${MAXCONN:=100}"
: "${CERTFILE:=/etc/ssl/ucspi-starttls/cert.pem}" "${KEYFILE:=/etc/ssl/ucspi-starttls/key.pem}"
: "${TLS_UID:=}" "${TLS_GID:=}" "${RUN_AS:=}" "${TLS_CIPHERS:=}"
bin=${UST_BIN:+$UST_BIN/}

# tls_env: the environment the TLS engine needs, for env(1).
tls_env() {
  echo CERTFILE="$CERTFILE" KEYFILE="$KEYFILE" ${TLS_UID:+TLS_UID=$TLS_UID} ${TLS_GID:+TLS_GID=$TLS_GID} ${TLS_CIPHERS:+TLS_CIPHERS=$TLS_CIPHERS}
}

# as_user: runs the rest of the command line as RUN_AS, when set. The engine
# is not concerned: the controller forks it before this runs.
as_user() {
  if [ -n "$RUN_AS" ]; then
    echo setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")" --clear-groups --
  fi
}

# serve PROG...: tcpserver in the foreground (for s6, runit, or a terminal).
serve() {
  exec tcpserver -c "$MAXCONN" -R -H -l "$(hostname -f 2>/dev/null || hostname)" "$IP" "$PORT" "$@"
}

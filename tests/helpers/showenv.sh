#!/bin/bash
# showenv.sh [FD]: a program for tlsd/tlsc (and their controllers) that writes
# to FD (default 1) the TLS facts and the TLS configuration variables it can
# see, sorted, then "END", and exits without reading anything.
# bash, not sh: dash drops environment entries like CERTFILE:name=... .
fd=${1:-1}
{
  env | grep -E '^(SSL_PROTOCOL|SSL_CIPHER|SSL_TLS_SNI_SERVERNAME|SSL_PEER_CERT_HASH|SSL_PEER_CERT_SUBJECT|SSLCTLFD|SSLREADFD|SSLWRITEFD|CERTFILE|KEYFILE|CAFILE|CADIR|TLS_UID|TLS_GID)[=:]' | sort
  echo END
} >&"$fd"

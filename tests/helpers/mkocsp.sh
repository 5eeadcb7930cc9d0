#!/bin/sh
# mkocsp.sh CERTS CERT STATUS OUT: a DER OCSP response for CERTS/CERT.pem,
# signed by the test CA (CERTS/ca.pem, ca.key), STATUS good or revoked,
# valid one day, written to OUT. For the OCSP stapling tests.
set -eu
certs=$1 cert=$certs/$2.pem status=$3 out=$4
dir=$(mktemp -d "${TMPDIR:-/tmp}/mkocsp.XXXXXX")
trap 'rm -rf "$dir"' EXIT
serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2)
expiry=$(date -u -d "$(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
subject=$(openssl x509 -in "$cert" -noout -subject -nameopt compat | sed 's/^subject=//')
case $status in
  good) printf 'V\t%s\t\t%s\tunknown\t%s\n' "$expiry" "$serial" "$subject" ;;
  revoked) printf 'R\t%s\t%s\t%s\tunknown\t%s\n' "$expiry" "$(date -u +%y%m%d%H%M%SZ)" "$serial" "$subject" ;;
  *) echo "mkocsp.sh: status must be good or revoked" >&2; exit 100 ;;
esac > "$dir/index.txt"
openssl ocsp -issuer "$certs/ca.pem" -cert "$cert" -no_nonce -reqout "$dir/req.der" >/dev/null
openssl ocsp -index "$dir/index.txt" -rsigner "$certs/ca.pem" -rkey "$certs/ca.key" -CA "$certs/ca.pem" \
  -reqin "$dir/req.der" -respout "$out" -ndays 1 >/dev/null 2>&1
[ -s "$out" ]

#!/bin/sh
# mkcerts.sh DIR: generates the test PKI into DIR (created if missing), once:
# a second run on a complete DIR does nothing. Everything is made at test time
# with openssl; nothing secret is ever committed.
#
#   ca.pem ca.key            test root CA ("UST Test CA")
#   ca2.pem ca2.key          an unrelated CA ("UST Other CA")
#   cadir/                   ca.pem with its hash links (for CADIR)
#   int.pem int.key          an intermediate CA under ca
#   server-ec.{pem,key}      ECDSA P-256, CN/SAN localhost + IP 127.0.0.1
#   server-rsa.{pem,key}     RSA-2048, same names
#   server-ec.der server-ec.key.der   DER forms of server-ec
#   server-ec.sec1.key       its key as SEC1 ("EC PRIVATE KEY", public key inside)
#   server-ec.nopub.key      SEC1 without the public key
#   server-ec.p8nopub.key    PKCS#8 without the public key
#   server-ec.nopub.der      SEC1 DER without the public key
#   chain.pem chain-leaf.key a leaf signed by int (CN localhost), file = leaf + int
#   mail.{pem,key}           mail.example.org (ECDSA)
#   other.{pem,key}          other.example.org (RSA-2048)
#   wild.{pem,key}           *.example.net (ECDSA)
#   client.{pem,key}         client certificate signed by ca ("UST Test Client")
#   client.der               its DER form (for hashing)
#   client2.{pem,key}        client certificate signed by ca2 (untrusted)
#   broken.key               not a key at all
#   broken.pem               not a certificate at all
#   truncated.pem            a certificate cut in half
#   empty.pem                an empty file
#
# Every leaf PEM has a .der twin and a .sha256 file holding
# "SHA256:<hex of its DER>" (the SSL_PEER_CERT_HASH form).
set -eu
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f .complete ] && exit 0

days=3650
SAN=DNS:unused.invalid
export SAN
cnf=openssl.cnf
cat > "$cnf" <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# ca NAME SUBJECT: a self-signed root
ca() {
  eckey "$1.key"
  openssl req -new -x509 -config "$cnf" -extensions v3_ca -key "$1.key" -subj "$2" -days $days -out "$1.pem"
}

# leaf NAME KEYTYPE SUBJECT EXTENSIONS ISSUER [SAN]
leaf() {
  name=$1 type=$2 subj=$3 ext=$4 issuer=$5
  SAN=${6:-DNS:unused.invalid}
  export SAN
  "${type}key" "$name.key"
  openssl req -new -config "$cnf" -key "$name.key" -subj "$subj" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -extfile "$cnf" -extensions "$ext" -days $days -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
  openssl x509 -in "$name.pem" -outform DER -out "$name.der"
  printf 'SHA256:%s\n' "$(openssl dgst -sha256 -r "$name.der" | cut -d' ' -f1)" > "$name.sha256"
}

ca ca "/O=UST Test/CN=UST Test CA"
ca ca2 "/O=UST Other/CN=UST Other CA"

leaf int ec "/O=UST Test/CN=UST Test Intermediate" v3_int ca
leaf server-ec ec "/O=UST Test/CN=localhost" v3_server ca "DNS:localhost,IP:127.0.0.1"
leaf server-rsa rsa "/O=UST Test RSA/CN=localhost" v3_server ca "DNS:localhost,IP:127.0.0.1"
leaf mail ec "/O=UST Test/CN=mail.example.org" v3_server ca "DNS:mail.example.org"
leaf other rsa "/O=UST Test/CN=other.example.org" v3_server ca "DNS:other.example.org"
leaf wild ec "/O=UST Test/CN=*.example.net" v3_server ca "DNS:*.example.net"
leaf chain-leaf ec "/O=UST Test Chain/CN=localhost" v3_server int "DNS:localhost,IP:127.0.0.1"
cat chain-leaf.pem int.pem > chain.pem
leaf client ec "/C=XX/O=UST Test/CN=UST Test Client" v3_client ca
leaf client2 ec "/O=UST Other/CN=UST Untrusted Client" v3_client ca2

openssl x509 -in server-ec.pem -outform DER -out server-ec.der
openssl pkey -in server-ec.key -outform DER -out server-ec.key.der
openssl ec -in server-ec.key -out server-ec.sec1.key 2>/dev/null
openssl ec -in server-ec.key -no_public -out server-ec.nopub.key 2>/dev/null
openssl ec -in server-ec.key -no_public -outform DER -out server-ec.nopub.der 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in server-ec.nopub.key -out server-ec.p8nopub.key

mkdir -p cadir
cp ca.pem cadir/ca.pem
openssl rehash cadir 2>/dev/null || c_rehash cadir >/dev/null 2>&1 || true

printf 'this is not a key\n' > broken.key
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' > broken.pem
head -c 300 server-ec.pem > truncated.pem
: > empty.pem
chmod 600 ./*.key
touch .complete

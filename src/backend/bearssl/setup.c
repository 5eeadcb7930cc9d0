/* setup.c: configures the BearSSL engine: TLS 1.2, ECDHE suites (TLS_CIPHERS), algorithms, flags, buffer, then the first reset. */
#include <string.h>
#include "exitcodes.h"
#include "ust.h"
#include "bearssl-internal.h"

/* Forward-secret suites only, in server preference order: AEAD first (all
   that TLS_CIPHERS=strict allows: SUITES_AEAD), then CBC for older clients
   (compat, the default). ECDSA and RSA variants side by side: the policy
   keeps those fitting the certificate chosen for the client's SNI name. */
static uint16_t const suites[] = {
  BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
#define SUITES_AEAD 6
  BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
  BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
  BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
  BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
  BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
  BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
  BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
} ;

static size_t nsuites (tlsconf const *conf)
{
  return conf->ciphers == TLSCONF_CIPHERS_STRICT ? SUITES_AEAD : sizeof(suites) / sizeof(*suites) ;
}

int bsb_suite_allowed (tlsconf const *conf, unsigned int suite, int key_type)
{
  /* ECDSA at even positions, RSA at odd ones */
  for (size_t i = 0 ; i < nsuites(conf) ; i++)
    if (suites[i] == suite) return !(i & 1) == (key_type == BR_KEYTYPE_EC) ;
  return 0 ;
}

/* What BearSSL cannot do is refused at start, never silently left out:
   TLS 1.3 (it speaks TLS 1.2 at most), OCSP stapling (it has no API for it). */
static int check_capabilities (tlsb const *s, char const **why)
{
  if (!(s->conf.protocols & TLSCONF_TLS12))
  {
    *why = "TLS_PROTOCOLS: this build's TLS library, BearSSL, has no TLS 1.3: the set must include tlsv1.2" ;
    return UST_EXIT_USAGE ;
  }
  for (unsigned int i = 0 ; i < s->conf.nkeypairs ; i++)
    if (s->conf.keypairs[i].ocspfile)
    {
      *why = "OCSPFILE: this build's TLS library, BearSSL, cannot staple OCSP responses (unset OCSPFILE, or build with --with-tls=libtls)" ;
      return UST_EXIT_USAGE ;
    }
  return 0 ;
}

/* What both roles need: protocol, suites, and the implementations behind them. */
static void set_algorithms (br_ssl_engine_context *eng, tlsconf const *conf)
{
  br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12) ;
  br_ssl_engine_set_suites(eng, suites, nsuites(conf)) ;
  br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable) ;
  br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable) ;
  br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable) ;
  br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable) ;
  br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable) ;
  br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf) ;
  br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf) ;
  br_ssl_engine_set_default_aes_gcm(eng) ;
  br_ssl_engine_set_default_chapol(eng) ;
  if (conf->ciphers != TLSCONF_CIPHERS_STRICT) br_ssl_engine_set_default_aes_cbc(eng) ;
  br_ssl_engine_set_default_ec(eng) ;
  br_ssl_engine_set_default_rsavrfy(eng) ;
  br_ssl_engine_set_default_ecdsa(eng) ;
}

static int reset_failed (tlsb *s, char const **why)
{
  char const *words = bsb_error_words(br_ssl_engine_last_error(s->eng)) ;
  *why = bsb_why("BearSSL engine initialisation failed: ", words ? words : "unknown error", (char const *)0) ;
  return UST_EXIT_SETUP ;
}

int bsb_setup_server (tlsb *s, char const **why)
{
  br_ssl_server_context *sc = &s->ctx.server ;
  int optional = s->conf.clientcert == TLSCONF_CLIENTCERT_OPTIONAL ;
  /* ALPN offered, but no mail protocol in it: a fatal no_application_protocol alert */
  uint32_t flags = BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION | BR_OPT_FAIL_ON_ALPN_MISMATCH ;
  int e = check_capabilities(s, why) ;
  if (e) return e ;
  br_ssl_server_zero(sc) ;
  s->eng = &sc->eng ;
  set_algorithms(s->eng, &s->conf) ;
  br_ssl_engine_set_protocol_names(s->eng, (char const **)ust_alpn_mail, UST_ALPN_MAIL_N) ;
  bsb_policy_init(&s->policy, &s->conf, s->keypairs) ;
  br_ssl_server_set_policy(sc, &s->policy.vtable) ;
  if (s->cache.fd >= 0) br_ssl_server_set_cache(sc, &s->cache.vtable) ;
  if (s->conf.clientcert != TLSCONF_CLIENTCERT_NONE)
  {
    /* Sending the anchors' names is what makes BearSSL ask for a client certificate. */
    br_ssl_server_set_trust_anchor_names_alt(sc, s->trust.v, s->trust.n) ;
    bsb_x509_init(&s->x509, &s->trust, s->eng, optional) ;
    br_ssl_engine_set_x509(s->eng, &s->x509.vtable) ;
    if (optional) flags |= BR_OPT_TOLERATE_NO_CLIENT_AUTH ;
  }
  br_ssl_engine_set_all_flags(s->eng, flags) ;
  br_ssl_engine_set_buffer(s->eng, s->iobuf, BR_SSL_BUFSIZE_BIDI, 1) ;
  return br_ssl_server_reset(sc) ? 0 : reset_failed(s, why) ;
}

int bsb_setup_client (tlsb *s, char const **why)
{
  br_ssl_client_context *cc = &s->ctx.client ;
  int e = check_capabilities(s, why) ;
  if (e) return e ;
  if (s->conf.servername && strlen(s->conf.servername) > TLSB_SERVERNAME_MAX)
  {
    *why = "the server name is longer than 255 bytes" ;
    return UST_EXIT_USAGE ;
  }
  br_ssl_client_zero(cc) ;
  s->eng = &cc->eng ;
  set_algorithms(s->eng, &s->conf) ;
  bsb_x509_init(&s->x509, &s->trust, s->eng, 0) ;
  br_ssl_engine_set_x509(s->eng, &s->x509.vtable) ;
  if (s->nkeypairs)
  {
    bsb_keypair const *kp = &s->keypairs[0] ;
    if (kp->key_type == BR_KEYTYPE_RSA)
      br_ssl_client_set_single_rsa(cc, kp->chain, kp->chain_len, &kp->rsa, br_rsa_pkcs1_sign_get_default()) ;
    else
      br_ssl_client_set_single_ec(cc, kp->chain, kp->chain_len, &kp->ec, BR_KEYTYPE_SIGN,
        kp->issuer_key_type, br_ec_get_default(), br_ecdsa_sign_asn1_get_default()) ;
  }
  br_ssl_engine_set_all_flags(s->eng, BR_OPT_NO_RENEGOTIATION) ;
  br_ssl_engine_set_buffer(s->eng, s->iobuf, BR_SSL_BUFSIZE_BIDI, 1) ;
  return br_ssl_client_reset(cc, s->conf.servername, s->sfile.fd >= 0 && bsb_client_session_offer(s)) ? 0 : reset_failed(s, why) ;
}

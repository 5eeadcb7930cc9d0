/* policy.c: the server's policy: the certificate for the client's SNI name, the cipher suite, the ServerKeyExchange signature. */
#include <string.h>
#include "bearssl-internal.h"

static bsb_policy *self (br_ssl_server_policy_class const *const *pctx)
{
  return (bsb_policy *)(void *)pctx ;
}

/* Hash functions for signatures, best first; SHA-1 only as a last resort. */
static int const hash_preference[] = { br_sha256_ID, br_sha384_ID, br_sha512_ID, br_sha224_ID, br_sha1_ID } ;

static br_hash_class const *hash_class (int id)
{
  switch (id)
  {
    case br_sha1_ID : return &br_sha1_vtable ;
    case br_sha224_ID : return &br_sha224_vtable ;
    case br_sha256_ID : return &br_sha256_vtable ;
    case br_sha384_ID : return &br_sha384_vtable ;
    case br_sha512_ID : return &br_sha512_vtable ;
    default : return 0 ;
  }
}

static unsigned char const *rsa_hash_oid (int id)
{
  switch (id)
  {
    case br_sha1_ID : return BR_HASH_OID_SHA1 ;
    case br_sha224_ID : return BR_HASH_OID_SHA224 ;
    case br_sha256_ID : return BR_HASH_OID_SHA256 ;
    case br_sha384_ID : return BR_HASH_OID_SHA384 ;
    case br_sha512_ID : return BR_HASH_OID_SHA512 ;
    default : return 0 ;
  }
}

static int choose (br_ssl_server_policy_class const **pctx, br_ssl_server_context const *sc, br_ssl_server_choices *choices)
{
  bsb_policy *p = self(pctx) ;
  char const *name = br_ssl_engine_get_server_name(&sc->eng) ;
  int i = tlsconf_select_keypair(p->conf, name) ;
  bsb_keypair const *kp ;
  br_suite_translated const *suites ;
  size_t nsuites ;
  unsigned int keyx, hashes ;
  p->chosen = -1 ;
  p->reason[0] = 0 ;
  if (i < 0 && !name[0])
  {
    strcpy(p->reason, "the client sent no server name (SNI) and there is no default certificate") ;
    return 0 ;
  }
  if (i < 0)
  {
    static char const what[] = "no certificate for the server name \"" ;
    size_t n = sizeof(what) - 1 ;
    memcpy(p->reason, what, n) ;
    bsb_clean_name(p->reason + n, sizeof(p->reason) - n - 1, name) ;  /* room for the closing quote */
    n += strlen(p->reason + n) ;
    memcpy(p->reason + n, "\"", 2) ;
    return 0 ;
  }
  kp = &p->keypairs[i] ;
  keyx = kp->key_type == BR_KEYTYPE_RSA ? BR_SSLKEYX_ECDHE_RSA : BR_SSLKEYX_ECDHE_ECDSA ;
  /* Suites both sides support, in our order (BR_OPT_ENFORCE_SERVER_PREFERENCES),
     already trimmed of ECDHE suites lacking a common curve or hash. */
  suites = br_ssl_server_get_client_suites(sc, &nsuites) ;
  for (size_t j = 0 ; j < nsuites ; j++)
  {
    if ((unsigned int)(suites[j][1] >> 12) != keyx) continue ;
    choices->cipher_suite = suites[j][0] ;
    hashes = br_ssl_server_get_client_hashes(sc) ;
    hashes = kp->key_type == BR_KEYTYPE_RSA ? hashes & 0xff : (hashes >> 8) & 0xff ;
    for (size_t h = 0 ; h < sizeof(hash_preference) / sizeof(*hash_preference) ; h++)
      if ((hashes >> hash_preference[h]) & 1)
      {
        choices->algo_id = 0xff00u + (unsigned int)hash_preference[h] ;
        choices->chain = kp->chain ;
        choices->chain_len = kp->chain_len ;
        p->chosen = i ;
        return 1 ;
      }
    break ;
  }
  strcpy(p->reason, kp->key_type == BR_KEYTYPE_RSA
    ? "no cipher suite shared with the client for an RSA certificate"
    : "no cipher suite shared with the client for an ECDSA certificate") ;
  return 0 ;
}

/* Only ECDHE suites are offered: there is never a key exchange with the private key. */
static uint32_t do_keyx (br_ssl_server_policy_class const **pctx, unsigned char *data, size_t *len)
{
  (void)pctx ; (void)data ; (void)len ;
  return 0 ;
}

static size_t do_sign (br_ssl_server_policy_class const **pctx, unsigned algo_id, unsigned char *data, size_t hv_len, size_t len)
{
  bsb_policy *p = self(pctx) ;
  bsb_keypair const *kp ;
  int id = (int)(algo_id & 0xff) ;
  unsigned char hv[64] ;
  if (p->chosen < 0 || algo_id < 0xff00 || hv_len > sizeof(hv)) return 0 ;
  kp = &p->keypairs[p->chosen] ;
  memcpy(hv, data, hv_len) ;  /* the signature overwrites data */
  if (kp->key_type == BR_KEYTYPE_RSA)
  {
    size_t sig_len = (kp->rsa.n_bitlen + 7) >> 3 ;
    unsigned char const *oid = rsa_hash_oid(id) ;
    if (!oid || sig_len > len) return 0 ;
    return br_rsa_pkcs1_sign_get_default()(oid, hv, hv_len, &kp->rsa, data) ? sig_len : 0 ;
  }
  else
  {
    unsigned char sig[160] ;  /* an ASN.1 ECDSA signature on P-521 takes at most 139 bytes */
    br_hash_class const *hf = hash_class(id) ;
    size_t sig_len ;
    if (!hf) return 0 ;
    sig_len = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), hf, hv, &kp->ec, sig) ;
    if (!sig_len || sig_len > len) return 0 ;
    memcpy(data, sig, sig_len) ;
    return sig_len ;
  }
}

static br_ssl_server_policy_class const sni_policy_class = {
  .context_size = sizeof(bsb_policy),
  .choose = &choose,
  .do_keyx = &do_keyx,
  .do_sign = &do_sign
} ;

void bsb_policy_init (bsb_policy *p, tlsconf const *conf, bsb_keypair const *keypairs)
{
  p->vtable = &sni_policy_class ;
  p->conf = conf ;
  p->keypairs = keypairs ;
  p->chosen = -1 ;
  p->reason[0] = 0 ;
}

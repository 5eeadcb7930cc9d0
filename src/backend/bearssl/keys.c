/* keys.c: loads a certificate chain and its private key (PEM or DER, RSA or EC) and checks that they match. */
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "ust.h"
#include "bearssl-internal.h"

/* Copies the certificate objects of objs into kp->chain. Returns 0 or an exit code. */
static int take_chain (char const *file, bsb_objects *objs, bsb_keypair *kp, char const **why)
{
  size_t n = 0 ;
  for (size_t i = 0 ; i < objs->n ; i++) if (bsb_object_is_certificate(&objs->v[i])) n++ ;
  if (!n)
  {
    *why = bsb_why("no certificate found in ", file, (char const *)0) ;
    return UST_EXIT_TLSCONF ;
  }
  kp->chain = calloc(n, sizeof(*kp->chain)) ;
  if (!kp->chain) { *why = "out of memory" ; return UST_EXIT_SYS ; }
  for (size_t i = 0 ; i < objs->n ; i++)
  {
    if (!bsb_object_is_certificate(&objs->v[i])) continue ;
    kp->chain[kp->chain_len].data = objs->v[i].der ;  /* ownership moves to the chain */
    kp->chain[kp->chain_len].data_len = objs->v[i].len ;
    objs->v[i].der = 0 ;
    objs->v[i].len = 0 ;
    kp->chain_len++ ;
  }
  return 0 ;
}

/* Returns 1 if the object may hold a private key: a PEM key or raw DER. */
static int is_key_object (bsb_object const *obj)
{
  return !obj->name[0] || !strcmp(obj->name, "PRIVATE KEY")
    || !strcmp(obj->name, "RSA PRIVATE KEY") || !strcmp(obj->name, "EC PRIVATE KEY") ;
}

/* Copies a decoded RSA key into kp (one owned buffer). Returns 0, or -1 if out of memory. */
static int copy_rsa (bsb_keypair *kp, br_rsa_private_key const *sk)
{
  size_t total = sk->plen + sk->qlen + sk->dplen + sk->dqlen + sk->iqlen ;
  unsigned char *p = malloc(total) ;
  if (!p) return -1 ;
  kp->keydata = p ;
  kp->keydata_len = total ;
  kp->key_type = BR_KEYTYPE_RSA ;
  kp->rsa.n_bitlen = sk->n_bitlen ;
  memcpy(p, sk->p, sk->plen) ; kp->rsa.p = p ; kp->rsa.plen = sk->plen ; p += sk->plen ;
  memcpy(p, sk->q, sk->qlen) ; kp->rsa.q = p ; kp->rsa.qlen = sk->qlen ; p += sk->qlen ;
  memcpy(p, sk->dp, sk->dplen) ; kp->rsa.dp = p ; kp->rsa.dplen = sk->dplen ; p += sk->dplen ;
  memcpy(p, sk->dq, sk->dqlen) ; kp->rsa.dq = p ; kp->rsa.dqlen = sk->dqlen ; p += sk->dqlen ;
  memcpy(p, sk->iq, sk->iqlen) ; kp->rsa.iq = p ; kp->rsa.iqlen = sk->iqlen ;
  return 0 ;
}

static int copy_ec (bsb_keypair *kp, br_ec_private_key const *sk)
{
  unsigned char *p = malloc(sk->xlen) ;
  if (!p) return -1 ;
  memcpy(p, sk->x, sk->xlen) ;
  kp->keydata = p ;
  kp->keydata_len = sk->xlen ;
  kp->key_type = BR_KEYTYPE_EC ;
  kp->ec.curve = sk->curve ;
  kp->ec.x = p ;
  kp->ec.xlen = sk->xlen ;
  return 0 ;
}

/* Copies the public key an EC private key carries beside its scalar (the
   publicKey of SEC1's ECPrivateKey, also when wrapped in PKCS#8) into q.
   Checking that one against the certificate costs no scalar multiplication
   (a third of the engine's start-up, every session); OpenSSL checks the same
   field. Returns its length, or 0 when the key has none. */
static size_t ec_stored_pub (unsigned char const *der, size_t len, int pkcs8, unsigned char *q, size_t max)
{
  unsigned int tag ;
  unsigned char const *c ;
  size_t clen, n ;
  if (!ust_der_next(der, len, &tag, &c, &clen) || tag != 0x30) return 0 ;
  der = c ; len = clen ;
  n = ust_der_next(der, len, &tag, &c, &clen) ;
  if (!n || tag != 0x02 || clen != 1) return 0 ;  /* version */
  der += n ; len -= n ;
  if (!c[0] && pkcs8)  /* PKCS#8: AlgorithmIdentifier, then the SEC1 key in an OCTET STRING */
  {
    n = ust_der_next(der, len, &tag, &c, &clen) ;
    if (!n || tag != 0x30) return 0 ;
    der += n ; len -= n ;
    if (!ust_der_next(der, len, &tag, &c, &clen) || tag != 0x04) return 0 ;
    return ec_stored_pub(c, clen, 0, q, max) ;
  }
  if (c[0] != 1) return 0 ;
  while (len)
  {
    n = ust_der_next(der, len, &tag, &c, &clen) ;
    if (!n) return 0 ;
    if (tag == 0xa1)  /* [1] publicKey: a BIT STRING without unused bits */
    {
      unsigned char const *b ;
      size_t blen ;
      if (!ust_der_next(c, clen, &tag, &b, &blen) || tag != 0x03 || blen < 2 || b[0] || blen - 1 > max) return 0 ;
      memcpy(q, b + 1, blen - 1) ;
      return blen - 1 ;
    }
    der += n ; len -= n ;
  }
  return 0 ;
}

/* Loads the first private key of file into kp. Returns 0 or an exit code. */
static int load_key (char const *file, bsb_keypair *kp, char const **why)
{
  bsb_objects objs = BSB_OBJECTS_ZERO ;
  br_skey_decoder_context dc ;
  bsb_object const *found = 0 ;
  int e = bsb_read_objects(file, &objs, why) ;
  if (e) return e ;
  for (size_t i = 0 ; i < objs.n && !found ; i++)
  {
    if (!strcmp(objs.v[i].name, "ENCRYPTED PRIVATE KEY"))
    {
      *why = bsb_why("encrypted private keys are not supported: ", file, (char const *)0) ;
      e = UST_EXIT_TLSCONF ;
      goto end ;
    }
    if (!is_key_object(&objs.v[i])) continue ;
    br_skey_decoder_init(&dc) ;
    br_skey_decoder_push(&dc, objs.v[i].der, objs.v[i].len) ;
    if (br_skey_decoder_last_error(&dc))
    {
      char const *words = bsb_error_words(br_skey_decoder_last_error(&dc)) ;
      *why = bsb_why("invalid private key in ", file, words ? " (" : "", words ? words : "", words ? ")" : "", (char const *)0) ;
      e = UST_EXIT_TLSCONF ;
      goto end ;
    }
    found = &objs.v[i] ;
  }
  if (!found)
  {
    *why = bsb_why("no private key found in ", file, (char const *)0) ;
    e = UST_EXIT_TLSCONF ;
    goto end ;
  }
  if ((br_skey_decoder_key_type(&dc) == BR_KEYTYPE_RSA ? copy_rsa(kp, br_skey_decoder_get_rsa(&dc)) : copy_ec(kp, br_skey_decoder_get_ec(&dc))) < 0)
  {
    *why = "out of memory" ;
    e = UST_EXIT_SYS ;
  }
  else if (kp->key_type == BR_KEYTYPE_EC)
    kp->ecpub_len = ec_stored_pub(found->der, found->len, 1, kp->ecpub, sizeof(kp->ecpub)) ;
 end:
  explicit_bzero(&dc, sizeof(dc)) ;
  bsb_objects_free(&objs) ;
  return e ;
}

/* Compares two big-endian unsigned integers, ignoring leading zeros. */
static int same_integer (unsigned char const *a, size_t alen, unsigned char const *b, size_t blen)
{
  while (alen && !*a) { a++ ; alen-- ; }
  while (blen && !*b) { b++ ; blen-- ; }
  return alen == blen && !memcmp(a, b, alen) ;
}

/* Checks the leaf's public key against the private key, and records the
   leaf's signer key type. Returns 0 or UST_EXIT_TLSCONF. */
static int check_match (tlsconf_keypair const *names, bsb_keypair *kp, char const **why)
{
  br_x509_decoder_context dc ;
  br_x509_pkey const *pk ;
  br_x509_decoder_init(&dc, 0, 0) ;
  br_x509_decoder_push(&dc, kp->chain[0].data, kp->chain[0].data_len) ;
  pk = br_x509_decoder_get_pkey(&dc) ;
  if (!pk)
  {
    char const *words = bsb_error_words(br_x509_decoder_last_error(&dc)) ;
    *why = bsb_why("invalid certificate in ", names->certfile, words ? " (" : "", words ? words : "", words ? ")" : "", (char const *)0) ;
    return UST_EXIT_TLSCONF ;
  }
  kp->issuer_key_type = (unsigned int)br_x509_decoder_get_signer_key_type(&dc) ;
  if (pk->key_type != kp->key_type) goto mismatch ;
  if (kp->key_type == BR_KEYTYPE_RSA)
  {
    unsigned char n[1024] ;  /* up to 8192-bit moduli */
    br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default() ;
    size_t nlen = modulus(0, &kp->rsa) ;
    if (!nlen || nlen > sizeof(n))
    {
      *why = bsb_why("unsupported RSA key size in ", names->keyfile, (char const *)0) ;
      return UST_EXIT_TLSCONF ;
    }
    modulus(n, &kp->rsa) ;
    if (!same_integer(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen)) goto mismatch ;
  }
  else
  {
    unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE] ;
    br_ec_impl const *ec = br_ec_get_default() ;
    size_t qlen ;
    if (kp->ec.curve < 0 || kp->ec.curve > 31 || !((ec->supported_curves >> kp->ec.curve) & 1))
    {
      *why = bsb_why("unsupported elliptic curve in ", names->keyfile, (char const *)0) ;
      return UST_EXIT_TLSCONF ;
    }
    if (kp->ecpub_len) memcpy(q, kp->ecpub, qlen = kp->ecpub_len) ;
    else qlen = br_ec_compute_pub(ec, 0, q, &kp->ec) ;
    if (!qlen || pk->key.ec.curve != kp->ec.curve || qlen != pk->key.ec.qlen || memcmp(q, pk->key.ec.q, qlen)) goto mismatch ;
  }
  return 0 ;
 mismatch:
  *why = bsb_why("certificate ", names->certfile, " does not match its key ", names->keyfile, (char const *)0) ;
  return UST_EXIT_TLSCONF ;
}

int bsb_load_keypair (tlsconf_keypair const *names, bsb_keypair *out, char const **why)
{
  bsb_objects objs = BSB_OBJECTS_ZERO ;
  int e ;
  memset(out, 0, sizeof(*out)) ;
  e = bsb_read_objects(names->certfile, &objs, why) ;
  if (e) return e ;
  e = take_chain(names->certfile, &objs, out, why) ;
  bsb_objects_free(&objs) ;
  if (!e) e = load_key(names->keyfile, out, why) ;
  if (!e) e = check_match(names, out, why) ;
  if (e) bsb_keypair_free(out) ;
  return e ;
}

void bsb_keypair_free (bsb_keypair *kp)
{
  if (kp->keydata)
  {
    explicit_bzero(kp->keydata, kp->keydata_len) ;
    free(kp->keydata) ;
  }
  for (size_t i = 0 ; i < kp->chain_len ; i++) free(kp->chain[i].data) ;
  free(kp->chain) ;
  memset(kp, 0, sizeof(*kp)) ;
}

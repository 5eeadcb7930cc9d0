/* x509.c: a validator class wrapping BearSSL's minimal X.509 engine that records the peer's leaf certificate. */
#include <string.h>
#include "bearssl-internal.h"

/* BearSSL calls the class with a pointer to the vtable field, which is the first of bsb_x509. */
static bsb_x509 *self (br_x509_class const *const *ctx)
{
  return (bsb_x509 *)(void *)ctx ;
}

static void start_chain (br_x509_class const **ctx, char const *server_name)
{
  bsb_x509 *x = self(ctx) ;
  /* BearSSL only calls the validator for a non-empty client chain: from
     here on an optional client certificate has been presented, and a
     failure to validate it must end the handshake. */
  if (x->optional_client_auth) br_ssl_engine_remove_flags(x->eng, BR_OPT_TOLERATE_NO_CLIENT_AUTH) ;
  x->ncerts = 0 ;
  x->leaf.len = 0 ;
  x->leaf_too_big = 0 ;
  x->have_peer = 0 ;
  x->hash[0] = 0 ;
  x->subject[0] = 0 ;
  br_x509_minimal_vtable.start_chain(&x->minimal.vtable, server_name) ;
}

static void start_cert (br_x509_class const **ctx, uint32_t length)
{
  bsb_x509 *x = self(ctx) ;
  x->ncerts++ ;
  if (x->ncerts == 1 && length > BSB_LEAF_MAX) x->leaf_too_big = 1 ;
  br_x509_minimal_vtable.start_cert(&x->minimal.vtable, length) ;
}

static void append (br_x509_class const **ctx, unsigned char const *buf, size_t len)
{
  bsb_x509 *x = self(ctx) ;
  if (x->ncerts == 1 && !x->leaf_too_big && !stralloc_catb(&x->leaf, (char const *)buf, len)) x->leaf_too_big = 1 ;
  br_x509_minimal_vtable.append(&x->minimal.vtable, buf, len) ;
}

static void end_cert (br_x509_class const **ctx)
{
  bsb_x509 *x = self(ctx) ;
  br_x509_minimal_vtable.end_cert(&x->minimal.vtable) ;
}

/* Sets x->hash and x->subject from the recorded leaf. */
static void record_peer (bsb_x509 *x)
{
  br_x509_decoder_context dc ;
  bsb_dn_sink dn = BSB_DN_SINK_ZERO ;
  if (x->leaf_too_big || !x->leaf.len) return ;
  tlsinfo_hash_cert(x->leaf.s, x->leaf.len, x->hash) ;
  br_x509_decoder_init(&dc, &bsb_dn_append, &dn) ;
  br_x509_decoder_push(&dc, x->leaf.s, x->leaf.len) ;
  if (!br_x509_decoder_last_error(&dc) && !dn.nomem)
    bsb_dn_oneline((unsigned char const *)dn.sa.s, dn.sa.len, x->subject, sizeof(x->subject)) ;
  stralloc_free(&dn.sa) ;
  x->have_peer = 1 ;
}

static unsigned end_chain (br_x509_class const **ctx)
{
  bsb_x509 *x = self(ctx) ;
  unsigned err = br_x509_minimal_vtable.end_chain(&x->minimal.vtable) ;
  if (!err) record_peer(x) ;
  return err ;
}

static br_x509_pkey const *get_pkey (br_x509_class const *const *ctx, unsigned *usages)
{
  bsb_x509 *x = self(ctx) ;
  return br_x509_minimal_vtable.get_pkey(&x->minimal.vtable, usages) ;
}

static br_x509_class const recording_class = {
  .context_size = sizeof(bsb_x509),
  .start_chain = &start_chain,
  .start_cert = &start_cert,
  .append = &append,
  .end_cert = &end_cert,
  .end_chain = &end_chain,
  .get_pkey = &get_pkey
} ;

void bsb_x509_init (bsb_x509 *x, bsb_trust const *t, br_ssl_engine_context *eng, int optional_client_auth)
{
  static br_hash_class const *const hashes[] = {
    0, 0, &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable
  } ;
  x->vtable = &recording_class ;
  br_x509_minimal_init(&x->minimal, &br_sha256_vtable, t->v, t->n) ;
  for (int id = br_sha1_ID ; id <= br_sha512_ID ; id++) br_x509_minimal_set_hash(&x->minimal, id, hashes[id]) ;
  br_x509_minimal_set_rsa(&x->minimal, br_rsa_pkcs1_vrfy_get_default()) ;
  br_x509_minimal_set_ecdsa(&x->minimal, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default()) ;
  x->eng = eng ;
  x->optional_client_auth = optional_client_auth ;
  x->ncerts = 0 ;
  x->leaf = stralloc_zero ;
  x->leaf_too_big = 0 ;
  x->have_peer = 0 ;
  x->hash[0] = 0 ;
  x->subject[0] = 0 ;
}

void bsb_x509_free (bsb_x509 *x)
{
  stralloc_free(&x->leaf) ;
}

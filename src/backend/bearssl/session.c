/* session.c: creating and releasing the BearSSL session: files read up front, engine configured, errors kept. */
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "bearssl-internal.h"

char const *const tlsb_name = "bearssl" ;

/* Reads every file the role needs, so that privileges can be dropped after tlsb_new. */
static int load_files (tlsb *s, char const **why)
{
  tlsconf const *c = &s->conf ;
  int server = c->role == TLSCONF_SERVER ;
  unsigned int n = server ? c->nkeypairs : c->clientcert != TLSCONF_CLIENTCERT_NONE && c->has_default ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    int e = bsb_load_keypair(&c->keypairs[i], &s->keypairs[i], why) ;
    if (e) return e ;
    s->nkeypairs = i + 1 ;
  }
  /* opened now: privileges may be dropped after tlsb_new */
  if (tlsconf_server_resumes(c))
  {
    int e = bsb_cache_open(&s->cache, c, s->keypairs, s->nkeypairs, &s->policy, why) ;
    if (e) return e ;
  }
  if (!server && c->sessionfile && sessionfile_open(&s->sfile, c, tlsb_name, why) < 0)
  {
    *why = bsb_why("SESSIONFILE ", c->sessionfile, ": ", *why, (char const *)0) ;
    return UST_EXIT_TLSCONF ;
  }
  /* A server verifies client certificates only when it asks for them. */
  if (!server || c->clientcert != TLSCONF_CLIENTCERT_NONE)
    return bsb_load_trust(c->cafile, c->cadir, &s->trust, why) ;
  return 0 ;
}

int tlsb_new (tlsb **sp, tlsconf const *conf, int netr, int netw, char const **why)
{
  tlsb *s ;
  int e ;
  if (!br_prng_seeder_system(0))
  {
    *why = "BearSSL has no source of randomness on this system" ;
    return UST_EXIT_SETUP ;
  }
  s = calloc(1, sizeof(*s)) ;
  if (!s) { *why = "out of memory" ; return UST_EXIT_SYS ; }
  s->iobuf = malloc(BR_SSL_BUFSIZE_BIDI + BSB_READAHEAD) ;
  if (!s->iobuf) { free(s) ; *why = "out of memory" ; return UST_EXIT_SYS ; }
  s->rahead = s->iobuf + BR_SSL_BUFSIZE_BIDI ;
  s->conf = *conf ;
  s->netr = netr ;
  s->netw = netw ;
  s->policy.chosen = -1 ;
  s->cache.fd = -1 ;
  s->sfile.fd = -1 ;
  e = load_files(s, why) ;
  if (!e) e = conf->role == TLSCONF_SERVER ? bsb_setup_server(s, why) : bsb_setup_client(s, why) ;
  if (e)
  {
    tlsb_free(s) ;
    return e ;
  }
  *sp = s ;
  return 0 ;
}

char const *tlsb_errstr (tlsb const *s)
{
  if (!s) return "no TLS session" ;
  return s->err[0] ? s->err : "unknown error" ;
}

void tlsb_free (tlsb *s)
{
  if (!s) return ;
  for (unsigned int i = 0 ; i < s->nkeypairs ; i++) bsb_keypair_free(&s->keypairs[i]) ;
  bsb_trust_free(&s->trust) ;
  bsb_cache_close(&s->cache) ;
  sessionfile_close(&s->sfile) ;
  bsb_x509_free(&s->x509) ;
  if (s->iobuf)
  {
    explicit_bzero(s->iobuf, BR_SSL_BUFSIZE_BIDI + BSB_READAHEAD) ;
    free(s->iobuf) ;
  }
  explicit_bzero(s, sizeof(*s)) ;  /* session keys live in the engine context */
  free(s) ;
}

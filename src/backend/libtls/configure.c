/* configure.c: turns the engine's TLS configuration into configured libtls contexts, files read now. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
#include "libtls-internal.h"
#include "ust.h"

/* Name of a keypair for messages: names may end at '=' (environment form). */
static void pairname (tlsconf_keypair const *kp, char *out, size_t max)
{
  size_t n = 0 ;
  if (!kp->name) { strncpy(out, "CERTFILE/KEYFILE", max - 1) ; out[max - 1] = 0 ; return ; }
  while (kp->name[n] && kp->name[n] != '=' && n + 1 < max) { out[n] = kp->name[n] ; n++ ; }
  out[n] = 0 ;
}

static int load (tlsb *s, char const *file, uint8_t **mem, size_t *len)
{
  *mem = tls_load_file(file, len, 0) ;
  if (*mem) return 0 ;
  libtls_seterr(s, file, errno ? strerror(errno) : "unreadable") ;
  return UST_EXIT_TLSCONF ;
}

/* Loads file as PEM: a DER file (no PEM header) is wrapped with label.
   A file that has a PEM header but no complete block of that label (or of
   any key label, for keys) is refused here, naming the file, rather than
   failing later inside a handshake. */
static int load_pem (tlsb *s, char const *file, char const *label, uint8_t **mem, size_t *len)
{
  uint8_t *raw ;
  size_t rawlen ;
  int e = load(s, file, &raw, &rawlen) ;
  if (e) return e ;
  if (!rawlen) { tls_unload_file(raw, rawlen) ; libtls_seterr(s, file, "empty file") ; return UST_EXIT_TLSCONF ; }
  if (libtls_is_pem(raw, rawlen))
  {
    int ok = strcmp(label, "PRIVATE KEY") ? libtls_pem_complete(raw, rawlen, label)
      : libtls_pem_complete(raw, rawlen, "PRIVATE KEY") || libtls_pem_complete(raw, rawlen, "EC PRIVATE KEY")
        || libtls_pem_complete(raw, rawlen, "RSA PRIVATE KEY") ;
    if (!ok) { tls_unload_file(raw, rawlen) ; libtls_seterr(s, file, strcmp(label, "PRIVATE KEY") ? "no complete PEM certificate in it" : "no complete PEM private key in it") ; return UST_EXIT_TLSCONF ; }
    *mem = raw ; *len = rawlen ;
    return 0 ;
  }
  if (raw[0] != 0x30) { tls_unload_file(raw, rawlen) ; libtls_seterr(s, file, "neither PEM nor DER") ; return UST_EXIT_TLSCONF ; }
  if (!strcmp(label, "PRIVATE KEY")) label = libtls_der_key_label(raw, rawlen) ;
  *mem = libtls_der_to_pem(raw, rawlen, label, len) ;
  tls_unload_file(raw, rawlen) ;
  if (!*mem) { libtls_seterr(s, file, "out of memory") ; return UST_EXIT_SYS ; }
  return 0 ;
}

/* Frees what load_pem returned, whichever way it was made (wiping it: it may be a key). */
static void unload_pem (uint8_t *mem, size_t len)
{
  tls_unload_file(mem, len) ;  /* explicit_bzero then free: right for malloc'ed copies too */
}

/* What both roles share: protocols (TLS_PROTOCOLS), ciphers (TLS_CIPHERS), trust anchors. */
static int common (tlsb *s, struct tls_config *cfg)
{
  tlsconf const *c = s->conf ;
  uint32_t protocols = (c->protocols & TLSCONF_TLS12 ? TLS_PROTOCOL_TLSv1_2 : 0) | (c->protocols & TLSCONF_TLS13 ? TLS_PROTOCOL_TLSv1_3 : 0) ;
  /* TLS_CIPHERS, for TLS 1.2 (every TLS 1.3 suite is AEAD with forward
     secrecy): the same suites as the BearSSL build's, ECDHE only */
  char const *ciphers = c->ciphers == TLSCONF_CIPHERS_STRICT ? "ECDHE+AESGCM:ECDHE+CHACHA20" : "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES" ;
  if (tls_config_set_protocols(cfg, protocols) < 0)
  {
    libtls_seterr(s, "protocols", tls_config_error(cfg)) ;
    return UST_EXIT_SETUP ;
  }
  if (tls_config_set_ciphers(cfg, ciphers) < 0)
  {
    libtls_seterr(s, "ciphers", tls_config_error(cfg)) ;
    return UST_EXIT_SETUP ;
  }
  if (c->cafile)
  {
    uint8_t *ca ;
    size_t len ;
    int e = load_pem(s, c->cafile, "CERTIFICATE", &ca, &len) ;
    if (e) return e ;
    e = tls_config_set_ca_mem(cfg, ca, len) ;
    unload_pem(ca, len) ;
    if (e < 0) { libtls_seterr(s, c->cafile, tls_config_error(cfg)) ; return UST_EXIT_TLSCONF ; }
  }
  if (c->cadir)
  {
    /* OpenSSL reads the hashed directory lazily: check now that it is there. */
    DIR *d = opendir(c->cadir) ;
    if (!d) { libtls_seterr(s, c->cadir, strerror(errno)) ; return UST_EXIT_TLSCONF ; }
    closedir(d) ;
  }
  if (c->cadir && tls_config_set_ca_path(cfg, c->cadir) < 0)
  {
    libtls_seterr(s, c->cadir, tls_config_error(cfg)) ;
    return UST_EXIT_TLSCONF ;
  }
  return 0 ;
}

static int keypair (tlsb *s, struct tls_config *cfg, tlsconf_keypair const *kp)
{
  uint8_t *cert, *key ;
  size_t certlen, keylen ;
  int e = load_pem(s, kp->certfile, "CERTIFICATE", &cert, &certlen) ;
  if (e) return e ;
  e = load_pem(s, kp->keyfile, "PRIVATE KEY", &key, &keylen) ;
  if (e) { unload_pem(cert, certlen) ; return e ; }
  e = tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen) ;
  unload_pem(cert, certlen) ;
  unload_pem(key, keylen) ;  /* libtls keeps its own copy; this one is wiped */
  if (e < 0)
  {
    char name[256], what[1024] ;
    pairname(kp, name, sizeof(name)) ;
    snprintf(what, sizeof(what), "%s (%s, %s)", name, kp->certfile, kp->keyfile) ;
    libtls_seterr(s, what, tls_config_error(cfg)) ;
    return UST_EXIT_TLSCONF ;
  }
  return 0 ;
}

/* OCSPFILE: the DER OCSP response stapled with this keypair's certificate,
   read now (each engine serves one connection: per connection, like the
   certificate). A staple that cannot be used is left out with a warning:
   the client can still ask the responder itself, and a mail server must
   not stop because a cron job failed to fetch a response. */
static void staple (struct tls_config *cfg, tlsconf_keypair const *kp)
{
  uint8_t *mem ;
  size_t len ;
  char const *problem = 0 ;
  if (!kp->ocspfile) return ;
  mem = tls_load_file(kp->ocspfile, &len, 0) ;
  if (!mem) problem = errno ? strerror(errno) : "unreadable" ;
  else if (!len || mem[0] != 0x30) problem = "not a DER OCSP response" ;
  else if (tls_config_set_ocsp_staple_mem(cfg, mem, len) < 0) problem = tls_config_error(cfg) ;
  if (mem) tls_unload_file(mem, len) ;
  if (problem) strerr_warn(PROG, ": warning: ", "OCSPFILE ", kp->ocspfile, ": ", problem, ": no OCSP response stapled") ;
}

/* tls_configure parses the certificate and key: errors there are the files' fault. */
static int finish (tlsb *s, unsigned int i, tlsconf_keypair const *kp)
{
  if (tls_configure(s->ctx[i], s->cfg[i]) == 0) return 0 ;
  if (strstr(tls_error(s->ctx[i]) ? tls_error(s->ctx[i]) : "", "verify") && (s->conf->cafile || s->conf->cadir))
  {
    /* the trust anchors, not the keypair */
    libtls_seterr(s, s->conf->cafile ? s->conf->cafile : s->conf->cadir, tls_error(s->ctx[i])) ;
    return UST_EXIT_TLSCONF ;
  }
  if (kp)
  {
    char name[256], what[1024] ;
    pairname(kp, name, sizeof(name)) ;
    snprintf(what, sizeof(what), "%s (%s, %s)", name, kp->certfile, kp->keyfile) ;
    libtls_seterr(s, what, tls_error(s->ctx[i])) ;
  }
  else libtls_seterr(s, "client configuration", tls_error(s->ctx[i])) ;
  return UST_EXIT_TLSCONF ;
}

static int server (tlsb *s)
{
  tlsconf const *c = s->conf ;
  char alpn[64] ;
  size_t n = 0 ;
  for (unsigned int i = 0 ; i < UST_ALPN_MAIL_N ; i++)
  {
    size_t l = strlen(ust_alpn_mail[i]) ;
    if (n + l + 2 > sizeof(alpn)) break ;
    if (n) alpn[n++] = ',' ;
    memcpy(alpn + n, ust_alpn_mail[i], l) ; n += l ;
  }
  alpn[n] = 0 ;
  for (unsigned int i = 0 ; i < c->nkeypairs ; i++)
  {
    int e ;
    s->cfg[i] = tls_config_new() ;
    s->ctx[i] = tls_server() ;
    s->nctx = i + 1 ;
    if (!s->cfg[i] || !s->ctx[i]) { libtls_seterr(s, "tls_server", "out of memory") ; return UST_EXIT_SYS ; }
    if ((e = common(s, s->cfg[i])) || (e = keypair(s, s->cfg[i], &c->keypairs[i]))) return e ;
    staple(s->cfg[i], &c->keypairs[i]) ;
    tls_config_prefer_ciphers_server(s->cfg[i]) ;
    /* a mail id offered is selected; io.c refuses an offer without one */
    if (tls_config_set_alpn(s->cfg[i], alpn) < 0) { libtls_seterr(s, "ALPN", tls_config_error(s->cfg[i])) ; return UST_EXIT_SETUP ; }
    if (c->clientcert == TLSCONF_CLIENTCERT_OPTIONAL) tls_config_verify_client_optional(s->cfg[i]) ;
    else if (c->clientcert == TLSCONF_CLIENTCERT_REQUIRED) tls_config_verify_client(s->cfg[i]) ;
    if ((e = finish(s, i, &c->keypairs[i]))) return e ;
  }
  return 0 ;
}

static int client (tlsb *s)
{
  tlsconf const *c = s->conf ;
  int e ;
  s->cfg[0] = tls_config_new() ;
  s->ctx[0] = tls_client() ;
  s->nctx = 1 ;
  if (!s->cfg[0] || !s->ctx[0]) { libtls_seterr(s, "tls_client", "out of memory") ; return UST_EXIT_SYS ; }
  if ((e = common(s, s->cfg[0]))) return e ;
  if (!c->servername) tls_config_insecure_noverifyname(s->cfg[0]) ;  /* no name to check; the chain still is */
  if (c->clientcert != TLSCONF_CLIENTCERT_NONE && (e = keypair(s, s->cfg[0], &c->keypairs[0]))) return e ;
  if (c->sessionfile && (e = libtls_client_session_setup(s, s->cfg[0]))) return e ;
  return finish(s, 0, c->clientcert != TLSCONF_CLIENTCERT_NONE ? &c->keypairs[0] : 0) ;
}

int libtls_configure (tlsb *s)
{
  if (tls_init() < 0) { libtls_seterr(s, "tls_init", "failed") ; return UST_EXIT_SETUP ; }
  return s->conf->role == TLSCONF_SERVER ? server(s) : client(s) ;
}

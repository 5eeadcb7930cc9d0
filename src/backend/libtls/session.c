/* session.c: creation, errors and release of a libtls session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "exitcodes.h"
#include "libtls-internal.h"

char const *const tlsb_name = "libtls" ;

void libtls_seterr (tlsb *s, char const *what, char const *detail)
{
  static char const stale[] = ": Success" ;  /* libretls appends strerror(0) to some messages */
  size_t n ;
  snprintf(s->err, sizeof(s->err), "%s%s%s", what, detail ? ": " : "", detail ? detail : "") ;
  n = strlen(s->err) ;
  if (n >= sizeof(stale) - 1 && !strcmp(s->err + n - (sizeof(stale) - 1), stale)) s->err[n - (sizeof(stale) - 1)] = 0 ;
}

/* Frees the half-made session s and returns code, with *why a copy of its
   message that outlives it (tlsb_new fails once, then the process exits). */
static int fail (tlsb *s, int code, char const **why)
{
  static char msg[sizeof(s->err)] ;
  memcpy(msg, s->err, sizeof(msg)) ;
  *why = msg ;
  tlsb_free(s) ;
  return code ;
}

int tlsb_new (tlsb **sp, tlsconf const *conf, int netr, int netw, char const **why)
{
  static char nomem[] = "out of memory" ;
  tlsb *s = calloc(1, sizeof(*s)) ;
  int e ;
  if (!s) { *why = nomem ; return UST_EXIT_SYS ; }
  s->conf = conf ;
  s->netr = netr ;
  s->netw = netw ;
  s->sfile.fd = -1 ;
  s->memfd = -1 ;
  if (conf->role == TLSCONF_CLIENT && conf->servername && strlen(conf->servername) > TLSB_SERVERNAME_MAX)
  {
    libtls_seterr(s, "the server name is longer than 255 bytes", 0) ;
    return fail(s, UST_EXIT_USAGE, why) ;
  }
  e = libtls_configure(s) ;
  if (e) return fail(s, e, why) ;
  if (conf->role == TLSCONF_CLIENT)
  {
    s->conn = s->ctx[0] ;
    if (tls_connect_cbs(s->conn, libtls_read_cb, libtls_write_cb, s, conf->servername) < 0)
    {
      /* what can fail here is the trust anchors' setup: a configuration error */
      libtls_seterr(s, conf->cafile ? conf->cafile : conf->cadir ? conf->cadir : "tls_connect", tls_error(s->conn)) ;
      return fail(s, UST_EXIT_TLSCONF, why) ;
    }
  }
  *sp = s ;
  return 0 ;
}

char const *tlsb_errstr (tlsb const *s)
{
  return s->err[0] ? s->err : "unknown error" ;
}

void tlsb_free (tlsb *s)
{
  if (s->conn && s->conf->role == TLSCONF_SERVER) tls_free(s->conn) ;
  for (unsigned int i = 0 ; i < s->nctx ; i++)
  {
    if (s->ctx[i]) tls_free(s->ctx[i]) ;
    if (s->cfg[i]) tls_config_free(s->cfg[i]) ;
  }
  sessionfile_close(&s->sfile) ;
  if (s->memfd >= 0) close(s->memfd) ;
  free(s->rahead) ;
  free(s) ;
}

/* ust_env_filter.c: builds an application's environment without the TLS secrets' locations. */
#include <string.h>
#include "ust.h"

char const *const ust_ucspitls_vars[] = { "SSLCTLFD", "SSLREADFD", "SSLWRITEFD", "SSLHANDOFF",
  "SSL_PROTOCOL", "SSL_CIPHER", "SSL_TLS_SNI_SERVERNAME", "SSL_PEER_CERT_HASH", "SSL_PEER_CERT_SUBJECT", 0 } ;

static int name_is (char const *e, char const *name)
{
  size_t n = strlen(name) ;
  return !strncmp(e, name, n) && e[n] == '=' ;
}

int ust_is_tls_var (char const *e)
{
  static char const *const vars[] = { "CERTFILE", "KEYFILE", "CAFILE", "CADIR", "OCSPFILE", "TLS_UID", "TLS_GID", "TLS_PROTOCOLS", "TLS_CIPHERS",
    "SESSIONCACHE", "SESSIONFILE", "SESSION_LIFETIME", 0 } ;
  for (char const *const *v = vars ; *v ; v++) if (name_is(e, *v)) return 1 ;
  return !strncmp(e, "CERTFILE:", 9) || !strncmp(e, "KEYFILE:", 8) || !strncmp(e, "OCSPFILE:", 9) ;
}

int ust_env_filter (char const **out, size_t max, char const *const *envp, int keep, char const *const *drop)
{
  size_t n = 0 ;
  for (; *envp ; envp++)
  {
    int skip = !keep && ust_is_tls_var(*envp) ;
    if (drop) for (char const *const *d = drop ; *d && !skip ; d++) if (name_is(*envp, *d)) skip = 1 ;
    if (skip) continue ;
    if (n + 1 >= max) return -1 ;
    out[n++] = *envp ;
  }
  if (n >= max) return -1 ;
  out[n] = 0 ;
  return (int)n ;
}

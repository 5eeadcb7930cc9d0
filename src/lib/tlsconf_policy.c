/* tlsconf_policy.c: the values of TLS_PROTOCOLS, TLS_CIPHERS and of the session resumption variables. */
#include <string.h>
#include <strings.h>
#include "config.h"
#include "tlsconf.h"
#include "ust.h"

int tlsconf_parse_protocols (char const *s, unsigned int *out, char const **why)
{
  unsigned int set = 0 ;
  while (*s)
  {
    size_t n = strcspn(s, ",: ") ;
    if (!n) { s++ ; continue ; }
    if (n == 7 && !strncasecmp(s, "tlsv1.2", 7)) set |= TLSCONF_TLS12 ;
    else if (n == 7 && !strncasecmp(s, "tlsv1.3", 7)) set |= TLSCONF_TLS13 ;
    else if ((n == 7 && !strncasecmp(s, "default", 7)) || (n == 6 && !strncasecmp(s, "secure", 6)) || (n == 3 && !strncasecmp(s, "all", 3)))
      set |= TLSCONF_TLS12 | TLSCONF_TLS13 ;
    else if ((n == 7 && (!strncasecmp(s, "tlsv1.0", 7) || !strncasecmp(s, "tlsv1.1", 7))) || (n == 5 && !strncasecmp(s, "tlsv1", 5)))
    {
      *why = "TLS_PROTOCOLS: TLS 1.0 and 1.1 are not offered (RFC 8996 deprecates them); use tlsv1.2 and/or tlsv1.3" ;
      return -1 ;
    }
    else
    {
      *why = "TLS_PROTOCOLS: unknown protocol name (known: tlsv1.2, tlsv1.3, default, separated by ',' or ':')" ;
      return -1 ;
    }
    s += n ;
  }
  if (!set) { *why = "TLS_PROTOCOLS: no protocol named" ; return -1 ; }
  *out = set ;
  return 0 ;
}

int tlsconf_parse_ciphers (char const *s, tlsconf_ciphers *out, char const **why)
{
  if (!strcasecmp(s, "strict")) *out = TLSCONF_CIPHERS_STRICT ;
  else if (!strcasecmp(s, "compat") || !strcasecmp(s, "default")) *out = TLSCONF_CIPHERS_COMPAT ;
  else
  {
    *why = "TLS_CIPHERS: must be strict (AEAD with forward secrecy only) or compat (also the ECDHE CBC suites of TLS 1.2)" ;
    return -1 ;
  }
  return 0 ;
}

static char const *nonempty (char const *const *envp, char const *name)
{
  char const *v = ust_getenv(envp, name) ;
  return v && *v ? v : 0 ;
}

static int session_from_env (tlsconf *conf, char const *const *envp, char const **why)
{
  char const *lifetime = nonempty(envp, "SESSION_LIFETIME") ;
  conf->sessioncache = nonempty(envp, "SESSIONCACHE") ;
  conf->sessionfile = nonempty(envp, "SESSIONFILE") ;
  conf->session_lifetime = TLSCONF_SESSION_LIFETIME_DEFAULT ;
  if (lifetime && (!ust_uint(lifetime, &conf->session_lifetime)
      || conf->session_lifetime < TLSCONF_SESSION_LIFETIME_MIN || conf->session_lifetime > TLSCONF_SESSION_LIFETIME_MAX))
  {
    *why = "SESSION_LIFETIME: must be a number of seconds from 60 to 86400" ;
    return -1 ;
  }
  if (conf->role == TLSCONF_SERVER && conf->sessionfile)
  {
    *why = "SESSIONFILE is for TLS clients (tlsc, ucspitlsc); a server shares sessions with SESSIONCACHE" ;
    return -1 ;
  }
  if (conf->role == TLSCONF_CLIENT && conf->sessioncache)
  {
    *why = "SESSIONCACHE is for TLS servers; a client keeps its session with SESSIONFILE" ;
    return -1 ;
  }
  /* libtls has no session cache hook, and its tickets are empty over
     OpenSSL 3 (doc/guarantees.md, "Session resumption") */
  if (conf->sessioncache && strcmp(UST_TLS_BACKEND, "bearssl"))
  {
    *why = "SESSIONCACHE: this build's TLS backend (" UST_TLS_BACKEND ") cannot resume sessions across processes; build with --with-tls=bearssl, or unset it" ;
    return -1 ;
  }
  return 0 ;
}

int tlsconf_policy_from_env (tlsconf *conf, char const *const *envp, char const **why)
{
  char const *protocols = ust_getenv(envp, "TLS_PROTOCOLS") ;
  char const *ciphers = ust_getenv(envp, "TLS_CIPHERS") ;
  conf->protocols = TLSCONF_PROTOCOLS_DEFAULT ;
  conf->ciphers = TLSCONF_CIPHERS_COMPAT ;
  /* empty is unset, as for the other variables */
  if (protocols && *protocols && tlsconf_parse_protocols(protocols, &conf->protocols, why) < 0) return -1 ;
  if (ciphers && *ciphers && tlsconf_parse_ciphers(ciphers, &conf->ciphers, why) < 0) return -1 ;
  return session_from_env(conf, envp, why) ;
}

int tlsconf_server_resumes (tlsconf const *conf)
{
  return conf->role == TLSCONF_SERVER && conf->clientcert == TLSCONF_CLIENTCERT_NONE
    && conf->sessioncache ;
}

/* tlsconf_policy.c: the values of TLS_PROTOCOLS and TLS_CIPHERS. */
#include <string.h>
#include <strings.h>
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

int tlsconf_policy_from_env (tlsconf *conf, char const *const *envp, char const **why)
{
  char const *protocols = ust_getenv(envp, "TLS_PROTOCOLS") ;
  char const *ciphers = ust_getenv(envp, "TLS_CIPHERS") ;
  conf->protocols = TLSCONF_PROTOCOLS_DEFAULT ;
  conf->ciphers = TLSCONF_CIPHERS_COMPAT ;
  /* empty is unset, as for the other variables */
  if (protocols && *protocols && tlsconf_parse_protocols(protocols, &conf->protocols, why) < 0) return -1 ;
  if (ciphers && *ciphers && tlsconf_parse_ciphers(ciphers, &conf->ciphers, why) < 0) return -1 ;
  return 0 ;
}

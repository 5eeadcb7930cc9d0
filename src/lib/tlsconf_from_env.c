/* tlsconf_from_env.c: reads the engine's TLS configuration variables. */
#include <string.h>
#include "tlsconf.h"
#include "ust.h"

/* Finds "KEYFILE:name=" for the SNI name of a "CERTFILE:name=..." entry. */
static char const *sni_keyfile (char const *const *envp, char const *name, size_t namelen)
{
  for (; *envp ; envp++)
    if (!strncmp(*envp, "KEYFILE:", 8) && !strncmp(*envp + 8, name, namelen) && (*envp)[8 + namelen] == '=')
      return *envp + 9 + namelen ;
  return 0 ;
}

int tlsconf_from_env (tlsconf *conf, char const *const *envp, char const **why)
{
  char const *cert = ust_getenv(envp, "CERTFILE") ;
  char const *key = ust_getenv(envp, "KEYFILE") ;
  conf->nkeypairs = 0 ;
  conf->has_default = 0 ;
  conf->cafile = ust_getenv(envp, "CAFILE") ;
  conf->cadir = ust_getenv(envp, "CADIR") ;
  if (conf->cafile && !*conf->cafile) conf->cafile = 0 ;
  if (conf->cadir && !*conf->cadir) conf->cadir = 0 ;

  if (tlsconf_policy_from_env(conf, envp, why) < 0) return -1 ;
  if (cert && !*cert) cert = 0 ;
  if (key && !*key) key = 0 ;
  if (!cert != !key)
  {
    *why = cert ? "CERTFILE is set but KEYFILE is not" : "KEYFILE is set but CERTFILE is not" ;
    return -1 ;
  }
  if (cert)
  {
    conf->keypairs[0].name = 0 ;
    conf->keypairs[0].certfile = cert ;
    conf->keypairs[0].keyfile = key ;
    conf->nkeypairs = 1 ;
    conf->has_default = 1 ;
  }

  if (conf->role == TLSCONF_SERVER && conf->snilevel)
  {
    for (char const *const *e = envp ; *e ; e++)
    {
      char const *eq ;
      size_t namelen ;
      if (strncmp(*e, "CERTFILE:", 9)) continue ;
      eq = strchr(*e + 9, '=') ;
      if (!eq) continue ;
      namelen = eq - (*e + 9) ;
      {
        char name[256] ;
        char const *kf ;
        if (!namelen || namelen >= sizeof(name))
        {
          *why = "invalid SNI name in a CERTFILE:name variable" ;
          return -1 ;
        }
        memcpy(name, *e + 9, namelen) ;
        name[namelen] = 0 ;
        if (!tlsconf_valid_sni_pattern(name))
        {
          *why = "invalid SNI name in a CERTFILE:name variable (a wildcard must cover one label of a name with at least two labels, never a top-level domain)" ;
          return -1 ;
        }
        kf = sni_keyfile(envp, *e + 9, namelen) ;
        if (!kf || !*kf || !eq[1])
        {
          *why = "a CERTFILE:name variable has no matching KEYFILE:name (or one is empty)" ;
          return -1 ;
        }
        if (conf->nkeypairs >= TLSCONF_KEYPAIRS_MAX)
        {
          *why = "too many CERTFILE:name variables" ;
          return -1 ;
        }
        conf->keypairs[conf->nkeypairs].name = *e + 9 ;  /* "name=value": compared up to '=' */
        conf->keypairs[conf->nkeypairs].certfile = eq + 1 ;
        conf->keypairs[conf->nkeypairs].keyfile = kf ;
        conf->nkeypairs++ ;
      }
    }
  }

  if (conf->role == TLSCONF_SERVER)
  {
    if (!conf->nkeypairs)
    {
      *why = "no server certificate: set CERTFILE and KEYFILE (or CERTFILE:name and KEYFILE:name)" ;
      return -1 ;
    }
    if (conf->clientcert != TLSCONF_CLIENTCERT_NONE && !conf->cafile && !conf->cadir)
    {
      *why = "client certificates requested (-Y or -y) but neither CAFILE nor CADIR is set" ;
      return -1 ;
    }
  }
  else
  {
    if (!conf->cafile && !conf->cadir)
    {
      *why = "no trust anchors: set CAFILE or CADIR" ;
      return -1 ;
    }
    if (conf->clientcert != TLSCONF_CLIENTCERT_NONE && !conf->has_default)
    {
      *why = "a client certificate was asked for (-y) but CERTFILE and KEYFILE are not set" ;
      return -1 ;
    }
  }
  return 0 ;
}

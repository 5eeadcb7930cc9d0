/* tlsconf_from_env.c: reads the engine's TLS configuration variables. */
#include <string.h>
#include "tlsconf.h"
#include "ust.h"

/* Finds "PREFIX:name=" (KEYFILE, OCSPFILE) for the SNI name of a "CERTFILE:name=..." entry. */
static char const *sni_file (char const *const *envp, char const *prefix, char const *name, size_t namelen)
{
  size_t pl = strlen(prefix) ;
  for (; *envp ; envp++)
    if (!strncmp(*envp, prefix, pl) && (*envp)[pl] == ':' && !strncmp(*envp + pl + 1, name, namelen) && (*envp)[pl + 1 + namelen] == '=')
      return *envp + pl + 2 + namelen ;
  return 0 ;
}

int tlsconf_from_env (tlsconf *conf, char const *const *envp, char const **why)
{
  char const *cert = ust_getenv(envp, "CERTFILE") ;
  char const *key = ust_getenv(envp, "KEYFILE") ;
  char const *ocsp = ust_getenv(envp, "OCSPFILE") ;
  conf->nkeypairs = 0 ;
  conf->has_default = 0 ;
  conf->cafile = ust_getenv(envp, "CAFILE") ;
  conf->cadir = ust_getenv(envp, "CADIR") ;
  if (conf->cafile && !*conf->cafile) conf->cafile = 0 ;
  if (conf->cadir && !*conf->cadir) conf->cadir = 0 ;

  if (tlsconf_policy_from_env(conf, envp, why) < 0) return -1 ;
  if (cert && !*cert) cert = 0 ;
  if (key && !*key) key = 0 ;
  if (ocsp && !*ocsp) ocsp = 0 ;
  if (ocsp && !cert && conf->role == TLSCONF_SERVER)
  {
    *why = "OCSPFILE is set but CERTFILE is not" ;
    return -1 ;
  }
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
    conf->keypairs[0].ocspfile = conf->role == TLSCONF_SERVER ? ocsp : 0 ;
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
        kf = sni_file(envp, "KEYFILE", *e + 9, namelen) ;
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
        {
          char const *of = sni_file(envp, "OCSPFILE", *e + 9, namelen) ;
          conf->keypairs[conf->nkeypairs].ocspfile = of && *of ? of : 0 ;
        }
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

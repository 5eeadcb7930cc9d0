/* tlsconf_select_keypair.c: picks the certificate for an SNI name, the same way for every backend. */
#include <string.h>
#include <strings.h>
#include "tlsconf.h"

/* Length of a keypair name: names taken from the environment end at '='. */
static size_t name_len (char const *name)
{
  size_t n = 0 ;
  while (name[n] && name[n] != '=') n++ ;
  return n ;
}

static int same (char const *a, size_t alen, char const *b, size_t blen)
{
  return alen == blen && !strncasecmp(a, b, alen) ;
}

int tlsconf_select_keypair (tlsconf const *conf, char const *servername)
{
  size_t slen = servername ? strlen(servername) : 0 ;
  int wildcard = -1 ;
  if (slen && servername[slen - 1] == '.') slen-- ;  /* absolute form */
  if (conf->role == TLSCONF_SERVER && conf->snilevel && slen)
  {
    char const *dot = memchr(servername, '.', slen) ;
    for (unsigned int i = 0 ; i < conf->nkeypairs ; i++)
    {
      char const *name = conf->keypairs[i].name ;
      size_t nlen ;
      if (!name) continue ;
      nlen = name_len(name) ;
      if (same(name, nlen, servername, slen)) return (int)i ;
      /* "*.d" matches "x.d" for one non-empty label x */
      if (wildcard < 0 && nlen > 2 && name[0] == '*' && name[1] == '.' && dot && dot > servername
       && same(name + 1, nlen - 1, dot, slen - (dot - servername)))
        wildcard = (int)i ;
    }
    if (wildcard >= 0) return wildcard ;
    if (conf->snilevel >= 2) return -1 ;
  }
  return conf->has_default ? 0 : -1 ;
}

int tlsconf_valid_sni_pattern (char const *name)
{
  size_t len = name_len(name) ;
  size_t labels = 1 ;
  if (len >= 2 && name[0] == '*' && name[1] == '.')
  {
    name += 2 ; len -= 2 ;
    for (size_t i = 0 ; i < len ; i++) if (name[i] == '.') labels++ ;
    if (labels < 2) return 0 ;  /* "*.org" would cover a whole top-level domain */
  }
  if (!len || len > 253 || name[0] == '.' || name[len - 1] == '.') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = name[i] ;
    if (c == '.') { if (name[i + 1] == '.') return 0 ; continue ; }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return 0 ;
  }
  return 1 ;
}

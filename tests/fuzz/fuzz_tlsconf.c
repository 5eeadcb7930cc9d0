/* fuzz_tlsconf.c: libFuzzer target for the TLS environment and SNI selection.
   Input: NUL-separated environment entries; the last entry is an SNI name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tlsconf.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char buf[4096] ;
  char const *env[65] ;
  char const *name = 0 ;
  unsigned int n = 0 ;
  size_t start = 0 ;
  if (size >= sizeof(buf)) return 0 ;
  memcpy(buf, data, size) ;
  buf[size] = 0 ;
  for (size_t i = 0 ; i <= size && n < 64 ; i++)
    if (!buf[i]) { env[n++] = buf + start ; start = i + 1 ; }
  if (n) name = env[--n] ;
  env[n] = 0 ;
  for (unsigned int level = 0 ; level < 3 ; level++)
  {
    tlsconf c = { .role = TLSCONF_SERVER, .snilevel = level } ;
    char const *why = 0 ;
    if (tlsconf_from_env(&c, env, &why) == 0)
    {
      int k = tlsconf_select_keypair(&c, name) ;
      if (k >= (int)c.nkeypairs || k < -1) abort() ;
      if (k > 0 && !c.keypairs[k].name) abort() ;   /* only the default pair is unnamed */
      if (k == -1 && level < 2 && c.has_default) abort() ;
    }
    else if (!why) abort() ;
  }
  return 0 ;
}

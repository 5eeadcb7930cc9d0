/* fuzz_clienthello.c: libFuzzer target for the ClientHello reader of the libtls backend (SNI and the ALPN offer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern int clienthello_sni (char const *rec, size_t len, char *name, size_t max) ;
extern int clienthello_alpn_foreign (char const *rec, size_t len) ;

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char name[256] ;
  int r = clienthello_sni((char const *)data, size, name, sizeof(name)) ;
  int a = clienthello_alpn_foreign((char const *)data, size) ;
  if (r < -2 || r > 1 || a < -2 || a > 1) abort() ;
  if (r == 1 && (!name[0] || strlen(name) >= sizeof(name))) abort() ;
  /* both read the same record: they agree on whether it is a ClientHello at all */
  if (a < 0 && r != a) abort() ;
  return 0 ;
}

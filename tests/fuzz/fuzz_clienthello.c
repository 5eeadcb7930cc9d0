/* fuzz_clienthello.c: libFuzzer target for the ClientHello SNI reader of the libtls backend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern int clienthello_sni (char const *rec, size_t len, char *name, size_t max) ;

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char name[256] ;
  int r = clienthello_sni((char const *)data, size, name, sizeof(name)) ;
  if (r < -2 || r > 1) abort() ;
  if (r == 1 && (!name[0] || strlen(name) >= sizeof(name))) abort() ;
  return 0 ;
}

/* fuzz_infoblock.c: libFuzzer target for the info block reader (tlsinfo_block_complete/parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tlsinfo.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  tlsinfo info ;
  long n = tlsinfo_block_complete((char const *)data, size) ;
  if (n > 0)
  {
    if ((size_t)n > size) abort() ;
    if (tlsinfo_block_parse((char const *)data, (size_t)n, &info) == 0)
    {
      char again[TLSINFO_BLOCK_MAX] ;
      size_t len = tlsinfo_block_make(&info, again, sizeof(again)) ;
      tlsinfo back ;
      /* what we parse, we can write, and read back the same */
      if (!len || tlsinfo_block_complete(again, len) != (long)len) abort() ;
      if (tlsinfo_block_parse(again, len, &back)) abort() ;
      if (strcmp(back.protocol, info.protocol) || strcmp(back.cipher, info.cipher) || strcmp(back.sni, info.sni)
       || strcmp(back.peer_cert_hash, info.peer_cert_hash) || strcmp(back.peer_cert_subject, info.peer_cert_subject)) abort() ;
    }
  }
  return 0 ;
}

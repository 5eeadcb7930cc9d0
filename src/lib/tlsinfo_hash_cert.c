/* tlsinfo_hash_cert.c: the SSL_PEER_CERT_HASH form of a certificate. */
#include <skalibs/sha256.h>
#include <string.h>
#include "tlsinfo.h"

void tlsinfo_hash_cert (char const *der, size_t len, char out[72])
{
  static char const hex[] = "0123456789abcdef" ;
  SHA256Schedule ctx = SHA256_INIT() ;
  unsigned char digest[32] ;
  sha256_update(&ctx, der, len) ;
  sha256_final(&ctx, (char *)digest) ;
  memcpy(out, "SHA256:", 7) ;
  for (unsigned int i = 0 ; i < 32 ; i++)
  {
    out[7 + 2 * i] = hex[digest[i] >> 4] ;
    out[8 + 2 * i] = hex[digest[i] & 15] ;
  }
  out[71] = 0 ;
}

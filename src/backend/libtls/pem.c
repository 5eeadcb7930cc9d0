/* pem.c: libtls reads certificates and keys from memory as PEM only: DER files are wrapped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libtls-internal.h"
#include "ust.h"

static char const b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" ;

int libtls_is_pem (uint8_t const *mem, size_t len)
{
  static char const begin[] = "-----BEGIN " ;
  for (size_t i = 0 ; i + sizeof(begin) - 1 <= len ; i++)
    if (!memcmp(mem + i, begin, sizeof(begin) - 1)) return 1 ;
  return 0 ;
}

int libtls_pem_complete (uint8_t const *mem, size_t len, char const *label)
{
  char begin[64], end[64] ;
  size_t blen, elen ;
  snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label) ;
  snprintf(end, sizeof(end), "-----END %s-----", label) ;
  blen = strlen(begin) ; elen = strlen(end) ;
  for (size_t i = 0 ; i + blen <= len ; i++)
  {
    if (memcmp(mem + i, begin, blen)) continue ;
    for (size_t j = i + blen ; j + elen <= len ; j++)
      if (!memcmp(mem + j, end, elen)) return 1 ;
    return 0 ;
  }
  return 0 ;
}

uint8_t *libtls_der_to_pem (uint8_t const *der, size_t len, char const *label, size_t *outlen)
{
  size_t b64len = (len + 2) / 3 * 4 ;
  size_t max = b64len + b64len / 64 + 2 + 2 * (strlen(label) + 20) + 1 ;
  uint8_t *out = malloc(max) ;
  size_t o = 0, col = 0 ;
  if (!out) return 0 ;
  o += (size_t)snprintf((char *)out, max, "-----BEGIN %s-----\n", label) ;
  for (size_t i = 0 ; i < len ; i += 3)
  {
    unsigned int v = (unsigned int)der[i] << 16 ;
    size_t n = len - i < 3 ? len - i : 3 ;
    if (n > 1) v |= (unsigned int)der[i + 1] << 8 ;
    if (n > 2) v |= der[i + 2] ;
    out[o++] = (uint8_t)b64[v >> 18 & 63] ;
    out[o++] = (uint8_t)b64[v >> 12 & 63] ;
    out[o++] = n > 1 ? (uint8_t)b64[v >> 6 & 63] : '=' ;
    out[o++] = n > 2 ? (uint8_t)b64[v & 63] : '=' ;
    if ((col += 4) == 64) { out[o++] = '\n' ; col = 0 ; }
  }
  if (col) out[o++] = '\n' ;
  o += (size_t)snprintf((char *)out + o, max - o, "-----END %s-----\n", label) ;
  *outlen = o ;
  return out ;
}

char const *libtls_der_key_label (uint8_t const *der, size_t len)
{
  /* PKCS#8: SEQUENCE { INTEGER 0, SEQUENCE { algorithm }, ... }
     RSA:    SEQUENCE { INTEGER 0, INTEGER modulus, ... }
     EC:     SEQUENCE { INTEGER 1, OCTET STRING, ... } */
  unsigned int tag ;
  unsigned char const *c, *v ;
  size_t clen, vlen, n ;
  if (!ust_der_next(der, len, &tag, &c, &clen) || tag != 0x30) return "PRIVATE KEY" ;
  n = ust_der_next(c, clen, &tag, &v, &vlen) ;
  if (!n || tag != 0x02 || vlen != 1) return "PRIVATE KEY" ;
  if (v[0] == 1) return "EC PRIVATE KEY" ;
  if (n < clen && c[n] == 0x02) return "RSA PRIVATE KEY" ;
  return "PRIVATE KEY" ;
}

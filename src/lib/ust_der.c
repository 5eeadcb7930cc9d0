/* ust_der.c: reads one DER element (tag, length, content), bounds-checked. */
#include "ust.h"

size_t ust_der_next (unsigned char const *p, size_t len, unsigned int *tag, unsigned char const **content, size_t *clen)
{
  size_t n, hdr = 2 ;
  if (len < 2 || (p[0] & 0x1f) == 0x1f) return 0 ;
  n = p[1] ;
  if (n & 0x80)
  {
    size_t k = n & 0x7f ;
    if (!k || k > 4 || len < 2 + k) return 0 ;
    n = 0 ;
    for (size_t i = 0 ; i < k ; i++) n = (n << 8) | p[2 + i] ;
    hdr += k ;
  }
  if (n > len - hdr) return 0 ;
  *tag = p[0] ;
  *content = p + hdr ;
  *clen = n ;
  return hdr + n ;
}

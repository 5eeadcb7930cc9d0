/* ust_uint.c: strict decimal parsing for option and environment values. */
#include <limits.h>
#include "ust.h"

int ust_uint (char const *s, unsigned int *u)
{
  unsigned long n = 0 ;
  if (!s || !*s) return 0 ;
  for (; *s ; s++)
  {
    if (*s < '0' || *s > '9') return 0 ;
    n = n * 10 + (unsigned long)(*s - '0') ;
    if (n > UINT_MAX) return 0 ;
  }
  *u = (unsigned int)n ;
  return 1 ;
}

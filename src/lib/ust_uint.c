/* ust_uint.c: strict decimal parsing for option and environment values. */
#include <limits.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
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

unsigned int ust_uint_opt (char const *s, char const *opt)
{
  unsigned int u ;
  if (!ust_uint(s, &u)) strerr_dief(UST_EXIT_USAGE, opt, " must be a non-negative integer, not: ", s) ;
  return u ;
}

int ust_fd_opt (char const *s, char const *opt)
{
  unsigned int u = ust_uint_opt(s, opt) ;
  if (u > UST_FD_MAX) strerr_dief(UST_EXIT_USAGE, opt, " is not a descriptor number: ", s) ;
  return (int)u ;
}

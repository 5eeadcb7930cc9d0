/* ust_catb.c: appending to a stralloc, or dying. */
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
#include "ust.h"

void ust_catb (stralloc *sa, char const *s, size_t len)
{
  if (!stralloc_catb(sa, s, len)) strerr_diefsys(UST_EXIT_SYS, "out of memory") ;
}

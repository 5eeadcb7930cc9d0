/* ust_deadline.c: an iopause deadline a number of milliseconds from now. */
#include <skalibs/tai.h>
#include "ust.h"

void ust_deadline_in (tain *d, unsigned int ms)
{
  tain span ;
  if (!ms) { tain const inf = TAIN_INFINITE ; *d = inf ; return ; }
  tain_from_millisecs(&span, ms > 0x7fffffffU ? 0x7fffffff : (int)ms) ;
  tain_add_g(d, &span) ;
}

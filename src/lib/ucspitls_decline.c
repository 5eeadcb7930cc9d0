/* ucspitls_decline.c: tells the controller that TLS will not be used. */
#include <unistd.h>
#include "ucspitls.h"

void ucspitls_decline (ucspitls *u)
{
  if (u->ctl >= 0) close(u->ctl) ;
  if (u->rfd >= 0) close(u->rfd) ;
  if (u->wfd >= 0) close(u->wfd) ;
  u->ctl = u->rfd = u->wfd = -1 ;
}

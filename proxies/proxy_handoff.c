/* proxy_handoff.c: STARTTLS accepted and its reply flushed: hand the connection to the TLS engine. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "proxy-internal.h"

/* Keeps 0 and 1 taken (by /dev/null) once the socket is gone, so no later descriptor lands there. */
static void drop_socket (void)
{
  int fd = open("/dev/null", O_RDWR) ;
  if (fd < 0) { close(0) ; close(1) ; return ; }
  dup2(fd, 0) ;
  dup2(fd, 1) ;
  if (fd > 1) close(fd) ;
}

int proxy_handoff (proxy *p)
{
  int const net[2] = { 0, 1 } ;
  unsigned int ms = p->o->idle_ms ? p->o->idle_ms : 300000 ;
  if (p->cbuf.end > p->cbuf.start)
  {
    /* The protocol refuses STARTTLS when bytes follow it; this is the framework's own guard. */
    proxy_log(p, 1, "client bytes pending at the handoff: dropping the connection", 0, 0) ;
    p->injections++ ;
    return -1 ;
  }
  if (ucspitls_start(&p->u, net, 2, &p->info, ms) < 0)
  {
    strerr_warnsys(PROG, ": fatal: ", "TLS handshake failed or the controller is gone") ;
    return -1 ;
  }
  /* From now on the client is the engine, over pipes; the proxy keeps no copy of the socket. */
  drop_socket() ;
  p->cin = p->u.rfd ;
  p->cout = p->u.wfd ;
  p->u.rfd = p->u.wfd = -1 ;
  if (ndelay_on(p->cin) < 0 || ndelay_on(p->cout) < 0)
  {
    strerr_warnsys(PROG, ": fatal: ", "set the engine pipes non-blocking") ;
    return -1 ;
  }
  p->tls = TLS_ACTIVE ;
  if (p->proto->tls_started) p->proto->tls_started(p, &p->info) ;
  return 0 ;
}

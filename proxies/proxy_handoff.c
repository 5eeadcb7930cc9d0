/* proxy_handoff.c: STARTTLS accepted and its reply flushed: hand the connection to the TLS engine. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "proxy-internal.h"

/* Keeps 0 and 1 taken (by /dev/null) once the socket is gone, so no later descriptor lands there. */
void proxy_drop_socket (void)
{
  int fd = open("/dev/null", O_RDWR) ;
  if (fd < 0) { close(0) ; close(1) ; return ; }
  dup2(fd, 0) ;
  dup2(fd, 1) ;
  if (fd > 1) close(fd) ;
}

/* The engine ended without a session (it logs why: EPIPE), or the
   controller could not be told. */
static void handoff_failed (void)
{
  if (errno == EPIPE) strerr_warn(PROG, ": fatal: ", "TLS handshake failed: the engine ended without a session (its own line says why)") ;
  else strerr_warnsys(PROG, ": fatal: ", "TLS handshake failed or the controller is gone") ;
}

/* Whether the engine can take the backend's pipes and the proxy leave: the
   controller offers it, the operator did not say -d, the backend never
   advertised TLS itself (nothing will need filtering), and nothing is in
   flight in the proxy (no backend byte read but not yet written, no reply due). */
static int direct_possible (proxy const *p)
{
  return p->u.handoff && !p->o->stay && p->backend_caps == 1
    && p->bin >= 0 && p->bout >= 0 && !p->backend_eof
    && p->bbuf.start == p->bbuf.end && !p->bliteral
    && p->to_backend.pos >= p->to_backend.s.len
    && !proxy_pending(p) ;
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
  if (direct_possible(p))
  {
    if (ucspitls_handoff(&p->u, net, 2, p->bin, p->bout, &p->info, ms) < 0)
    {
      handoff_failed() ;
      return -1 ;
    }
    /* The engine now reads and writes the backend's pipes: ours go, and so do we. */
    close(p->bin) ; close(p->bout) ;
    p->bin = p->bout = -1 ;
    proxy_drop_socket() ;
    p->tls = TLS_ACTIVE ;
    p->direct = 1 ;
    proxy_log(p, 2, "direct handoff: the engine relays with the backend, the proxy leaves", 0, 0) ;
    if (p->proto->tls_started) p->proto->tls_started(p, &p->info) ;
    return 1 ;
  }
  if (ucspitls_start(&p->u, net, 2, &p->info, ms) < 0)
  {
    handoff_failed() ;
    return -1 ;
  }
  /* From now on the client is the engine, over pipes; the proxy keeps no copy of the socket. */
  proxy_drop_socket() ;
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

/* proxy_loop.c: the framework's event loop: reads, writes and deadlines around proxy_frame.c. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "exitcodes.h"
#include "proxy-internal.h"

/* Reads what fd has into b. Returns 1 if bytes came, 0 if none now, -1 at EOF or error. */
static int fill (int fd, inbuf *b)
{
  ssize_t r ;
  proxy_inbuf_compact(b) ;
  if (b->end == sizeof(b->data)) return 0 ;
  do r = read(fd, b->data + b->end, sizeof(b->data) - b->end) ;
  while (r < 0 && errno == EINTR) ;
  if (r > 0) { b->end += (size_t)r ; return 1 ; }
  if (r < 0 && errno == EAGAIN) return 0 ;
  return -1 ;
}

/* Writes what q holds to fd. Returns 0, or -1 if the reader is gone. */
static int flush (int fd, outq *q)
{
  while (q->pos < q->s.len)
  {
    ssize_t w = write(fd, q->s.s + q->pos, q->s.len - q->pos) ;
    if (w < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) return 0 ;
      return -1 ;
    }
    proxy_sent(q, (size_t)w) ;
  }
  return 0 ;
}

static void close_fd (int *fd)
{
  if (*fd >= 0) close(*fd) ;
  *fd = -1 ;
}

int proxy_loop (proxy *p)
{
  tain deadline, line_deadline ;
  int line_timed = 0 ;  /* line_deadline runs: a command line has begun */
  tain_now_set_stopwatch_g() ;
  ust_deadline_in(&deadline, p->o->idle_ms) ;
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0 ;
    int ci = -1, co = -1, bi = -1, bo = -1, r ;
    while (proxy_client_step(p) || proxy_backend_step(p)) ;

    if (proxy_client_eof_due(p)) close_fd(&p->bout) ;
    if (proxy_handoff_due(p))
    {
      r = proxy_handoff(p) ;
      if (r < 0) return UST_EXIT_TLS ;
      if (r > 0) return 0 ;  /* direct handoff: the engine and the backend talk alone */
      ust_deadline_in(&deadline, p->o->idle_ms) ;
      continue ;
    }
    if (p->backend_eof && !p->closing && proxy_pending(p) && p->tls != TLS_STARTING && p->bbuf.start == p->bbuf.end && !p->backend_midline)
    {
      /* The client waits for a reply that will not come: it is told so, not
         left with a bare EOF (but never after half a line: that would make
         one garbled line of two). Before any byte of the backend, it could
         not start (or died at once): a system failure, exit 111. */
      proxy_log(p, 1, p->backend_spoke ? "the backend ended with replies due" : "the backend ended before its greeting (could it start?)", 0, 0) ;
      if (p->proto->backend_gone) p->proto->backend_gone(p) ;
      p->closing = 1 ;
      p->exitcode = p->backend_spoke ? UST_EXIT_OK : UST_EXIT_SYS ;
      continue ;
    }
    if (proxy_session_over(p)) return p->exitcode ;

    if (proxy_client_wanted(p)) { ci = n ; x[n].fd = p->cin ; x[n++].events = IOPAUSE_READ ; }
    if (proxy_queued(&p->to_client)) { co = n ; x[n].fd = p->cout ; x[n++].events = IOPAUSE_WRITE ; }
    if (proxy_backend_wanted(p)) { bi = n ; x[n].fd = p->bin ; x[n++].events = IOPAUSE_READ ; }
    if (proxy_queued(&p->to_backend) && p->bout >= 0) { bo = n ; x[n].fd = p->bout ; x[n++].events = IOPAUSE_WRITE ; }

    /* A command line must arrive whole within -t of its first byte: the idle
       deadline alone restarts with every byte, so a drip would hold it open. */
    if (!proxy_client_partial(p)) line_timed = 0 ;
    else if (!line_timed && p->o->idle_ms) { line_timed = 1 ; ust_deadline_in(&line_deadline, p->o->idle_ms) ; }
    if (line_timed && tain_less(&line_deadline, &deadline)) line_timed = 2 ;  /* the nearer one */
    else if (line_timed) line_timed = 1 ;

    r = iopause_g(x, n, line_timed == 2 ? &line_deadline : &deadline) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      strerr_warnsys(PROG, ": fatal: ", "iopause") ;
      return UST_EXIT_SYS ;
    }
    if (!r)
    {
      if (p->client_eof)
      {
        /* The client left, its EOF went to the backend, and the backend
           still talks or waits after -g: the session is over (proxy_main
           ends the backend at once). */
        proxy_log(p, 1, "the backend did not end within -g after the client left", 0, 0) ;
        p->grace_spent = 1 ;
        return p->exitcode ;  /* the client ended the session: no fault of its */
      }
      if (p->closing || p->tls == TLS_STARTING) return UST_EXIT_IDLE ;
      proxy_log(p, 1, line_timed == 2 ? "idle timeout: a command line still incomplete after the idle time" : "idle timeout", 0, 0) ;
      line_timed = 0 ;
      p->proto->idle_timeout(p) ;
      p->closing = 1 ;
      p->exitcode = UST_EXIT_IDLE ;
      ust_deadline_in(&deadline, 10000) ;  /* the goodbye gets a short while to go out */
      continue ;
    }
    if (co >= 0 && x[co].revents && flush(p->cout, &p->to_client) < 0) return p->exitcode ;  /* the client left */
    if (bo >= 0 && x[bo].revents && flush(p->bout, &p->to_backend) < 0)
    {
      close_fd(&p->bout) ;
      p->to_backend.pos = p->to_backend.s.len = 0 ;
    }
    if (ci >= 0 && x[ci].revents)
    {
      int got = fill(p->cin, &p->cbuf) ;
      if (got > 0) ust_deadline_in(&deadline, p->o->idle_ms) ;
      if (got < 0)
      {
        /* from now on the backend has -g in all, whatever it still writes
           (a server that answers its closed stdin for ever would reset any
           idle deadline) */
        p->client_eof = 1 ;
        ust_deadline_in(&deadline, p->o->grace_ms ? p->o->grace_ms : 1) ;
      }
    }
    if (bi >= 0 && x[bi].revents)
    {
      int got = fill(p->bin, &p->bbuf) ;
      if (got > 0) { p->backend_spoke = 1 ; p->backend_midline = p->bbuf.data[p->bbuf.end - 1] != '\n' ; }
      if (got > 0 && !p->client_eof) ust_deadline_in(&deadline, p->o->idle_ms) ;
      if (got < 0) p->backend_eof = 1 ;
    }
  }
}

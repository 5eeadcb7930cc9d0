/* client_relay.c: the client proxies' data path once the dialogue is done:
   the client's bytes to the server untouched (spliced where the kernel
   can), the server's through the
   protocol's filter, bounded queues, the idle deadline and -g after the
   client's EOF. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/strerr.h>
#include "client-internal.h"
#include "exitcodes.h"

/* The write side of fd is done: a FIN for a socket (its read side, the
   same socket on another descriptor, goes on), then the descriptor closed. */
static void end_output (int *fd)
{
  if (*fd < 0) return ;
  shutdown(*fd, SHUT_WR) ;
  close(*fd) ;
  *fd = -1 ;
}

/* What waits to be written to one side: [head, sa.len) of sa. Writes
   advance head; the written part is dropped when it is all of it, or moved
   out once it is CP_BUF bytes, so the queue stays under 3 * CP_BUF (reads
   are gated on pending < CP_BUF, a read or a filter step adds one more). */
typedef struct queue_s { stralloc sa ; size_t head ; } queue ;

static size_t pending (queue const *q) { return q->sa.len - q->head ; }

static void compact (queue *q)
{
  if (q->head == q->sa.len) q->head = q->sa.len = 0 ;
  else if (q->head >= CP_BUF)
  {
    memmove(q->sa.s, q->sa.s + q->head, q->sa.len - q->head) ;
    q->sa.len -= q->head ;
    q->head = 0 ;
  }
}

static void drop_all (queue *q) { q->head = q->sa.len = 0 ; }

/* Writes what q holds. Returns how many bytes went, or -1 when fd is gone. */
static ssize_t flush_some (int fd, queue *q)
{
  size_t start = q->head ;
  ssize_t r = 0 ;
  while (pending(q))
  {
    ssize_t w = write(fd, q->sa.s + q->head, pending(q)) ;
    if (w < 0) { if (errno != EAGAIN && errno != EINTR) r = -1 ; break ; }
    q->head += (size_t)w ;
  }
  r = r < 0 ? r : (ssize_t)(q->head - start) ;
  compact(q) ;
  return r ;
}

/* Reads what fd has straight into the end of q (no copy through a buffer).
   Returns what read returned. */
static ssize_t read_into (int fd, queue *q)
{
  ssize_t k ;
  compact(q) ;
  if (!stralloc_readyplus(&q->sa, CP_BUF)) strerr_dief(UST_EXIT_SYS, "out of memory") ;
  k = read(fd, q->sa.s + q->sa.len, CP_BUF) ;
  if (k > 0) q->sa.len += (size_t)k ;
  return k ;
}

/* The client's bytes go to the server untouched: while none wait in q,
   they move from in to out by splice, with no copy through the proxy, where
   the kernel can (a pipe or a socket in, a pipe out: the engine's). Returns
   what splice returned; -1 with EAGAIN and *full set when the engine's pipe
   has no room (the relay then waits for it before it reads the client
   again); else what read_into returned: EAGAIN with room, or 0, is the
   input's doing (TCP splice stops at an urgent mark, which read skips),
   and EINVAL means splice cannot here (*can is cleared for the session). */
static ssize_t take_client (int in, int out, queue *q, int *can, int *full)
{
  if (*can && !pending(q) && out >= 0)
  {
    ssize_t k = splice(in, 0, out, 0, CP_BUF, SPLICE_F_NONBLOCK | SPLICE_F_MOVE) ;
    if (k > 0 || (k < 0 && errno == EINTR)) return k ;
    /* 0 is not proof of EOF: at an urgent mark with the FIN already in,
       TCP splice returns 0 with bytes still to come; read tells */
    if (k < 0 && errno == EAGAIN)
    {
      struct pollfd x = { .fd = out, .events = POLLOUT } ;
      if (!poll(&x, 1, 0)) { *full = 1 ; return (errno = EAGAIN, -1) ; }
    }
    else if (k < 0 && errno == EINVAL) *can = 0 ;
  }
  return read_into(in, q) ;
}

int cp_relay (cp_session *c)
{
  queue toc = { STRALLOC_ZERO, 0 }, tos = { STRALLOC_ZERO, 0 } ;
  char buf[CP_BUF] ;
  tain deadline ;
  int code = 0 ;
  int cin = c->cin, cout = c->cout, sin = c->sin, sout = c->sout ;
  int client_eof = 0, server_eof = 0, lingering = 0, can_splice = 1, sout_full = 0 ;
  ust_catb(&toc.sa, c->d.greeting.s, c->d.greeting.len) ;
  tain_now_set_stopwatch_g() ;
  ust_deadline_in(&deadline, c->o.idle_ms) ;
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0 ;
    int ci = -1, co = -1, si = -1, so = -1, r ;
    int moved = 0 ;
    /* the client's EOF goes on once what it sent is written */
    if (client_eof && !pending(&tos) && sout >= 0) end_output(&sout) ;
    /* the server's EOF: the client gets the rest, then its own EOF, and the session is over */
    if (server_eof && (!pending(&toc) || cout < 0)) break ;
    if (cin >= 0 && !client_eof && sout >= 0 && pending(&tos) < CP_BUF && !sout_full) { ci = n ; x[n].fd = cin ; x[n++].events = IOPAUSE_READ ; }
    if (cout >= 0 && pending(&toc)) { co = n ; x[n].fd = cout ; x[n++].events = IOPAUSE_WRITE ; }
    if (sin >= 0 && !server_eof && pending(&toc) < CP_BUF) { si = n ; x[n].fd = sin ; x[n++].events = IOPAUSE_READ ; }
    if (sout >= 0 && (pending(&tos) || sout_full)) { so = n ; x[n].fd = sout ; x[n++].events = IOPAUSE_WRITE ; }
    r = iopause_g(x, n, &deadline) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      strerr_warnsys(PROG, ": fatal: ", "iopause") ;
      code = UST_EXIT_SYS ;
      break ;
    }
    /* a deadline is a deadline even when every wake-up brings an event
       that moves nothing (a peer or a kernel that keeps a descriptor ready) */
    if (!r || !tain_less(&STAMP, &deadline))
    {
      if (lingering)
      {
        int cut = pending(&toc) || c->filter.held.len || c->filter.line.len ;
        cp_log(c, 1, "the server did not end within -g after the client left", cut ? " (what it still sent was not all delivered)" : 0) ;
        if (cut) code = UST_EXIT_IDLE ;
        break ;
      }
      cp_log(c, 1, "idle timeout", 0) ;
      code = UST_EXIT_IDLE ;
      break ;
    }
    if (co >= 0 && x[co].revents)
    {
      ssize_t w = flush_some(cout, &toc) ;
      if (w < 0) { close(cout) ; cout = -1 ; client_eof = 1 ; drop_all(&toc) ; }  /* the client is gone */
      else if (w > 0) moved = 1 ;
    }
    if (so >= 0 && x[so].revents)
    {
      ssize_t w = flush_some(sout, &tos) ;
      sout_full = 0 ;  /* room again: the client is read (spliced) once more */
      if (w < 0) { close(sout) ; sout = -1 ; drop_all(&tos) ; }  /* the server side is gone: its EOF follows */
      else if (w > 0) moved = 1 ;
    }
    if (ci >= 0 && x[ci].revents)
    {
      ssize_t k = take_client(cin, sout, &tos, &can_splice, &sout_full) ;
      if (k > 0) { c->to_server += (uint64_t)k ; moved = 1 ; }
      else if (!k || (errno != EAGAIN && errno != EINTR)) client_eof = 1 ;
    }
    if (si >= 0 && x[si].revents)
    {
      /* a protocol with nothing to rewrite (POP3) reads straight into the queue */
      int as_is = c->filter.kind == CP_FILTER_NONE ;
      ssize_t k = as_is ? read_into(sin, &toc) : read(sin, buf, sizeof buf) ;
      if (k > 0 && cout < 0) drop_all(&toc) ;  /* nobody to give it to: dropped, and no reason to wait longer */
      else if (k > 0 && as_is) { c->to_client += (uint64_t)k ; moved = 1 ; }
      else if (k > 0) { compact(&toc) ; cp_filter_feed(&c->filter, buf, (size_t)k, &toc.sa) ; c->to_client += (uint64_t)k ; moved = 1 ; }
      else if (!k || (errno != EAGAIN && errno != EINTR)) { server_eof = 1 ; cp_filter_end(&c->filter, &toc.sa) ; }
    }
    if (client_eof && !server_eof && !lingering)
    {
      /* the client left: the server has -g to end its side, -g of silence
         while it still sends what a half-closed client still reads (-g 0:
         no time at all, as for the program after the session) */
      lingering = 1 ;
      ust_deadline_in(&deadline, c->o.grace_ms ? c->o.grace_ms : 1) ;
    }
    else if (moved) ust_deadline_in(&deadline, lingering ? (c->o.grace_ms ? c->o.grace_ms : 1) : c->o.idle_ms) ;
  }
  if (cout >= 0 && !code) end_output(&cout) ;
  /* what is closed here is closed for the caller too */
  c->cout = cout ; c->sout = sout ;
  c->client_eof = client_eof ;
  stralloc_free(&toc.sa) ;
  stralloc_free(&tos.sa) ;
  return code ;
}

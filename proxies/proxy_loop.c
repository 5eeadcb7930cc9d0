/* proxy_loop.c: the framework's event loop: framing, ordering, backpressure, deadlines. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "exitcodes.h"
#include "proxy-internal.h"

static size_t queued (outq const *q) { return q->s.len - q->pos ; }

static void deadline_in (tain *d, unsigned int ms)
{
  tain span ;
  if (!ms) { tain const inf = TAIN_INFINITE ; *d = inf ; return ; }
  tain_from_millisecs(&span, ms > 0x7fffffffU ? 0x7fffffff : (int)ms) ;
  tain_add_g(d, &span) ;
}

/* Client lines may be taken when nothing upstream is congested. */
static int client_may_proceed (proxy const *p)
{
  return !p->client_held && !p->closing && p->tls != TLS_STARTING
    && queued(&p->to_backend) < PROXY_OUT_HIGH && queued(&p->to_client) < PROXY_OUT_HIGH
    && p->fifo_len < PROXY_PENDING_MAX ;
}

/* One framed unit of client input; returns 0 when no progress is possible now. */
static int client_step (proxy *p)
{
  inbuf *b = &p->cbuf ;
  char const *s = b->data + b->start ;
  size_t avail = b->end - b->start, max = p->line_max, len ;
  char const *lf ;
  if (!avail || p->closing || p->tls == TLS_STARTING) return 0 ;
  /* Data (literals, chunks, bodies) waits like lines do while the backend is
     behind: without this a client could fill our memory with a message the
     backend does not read. */
  if (p->cmode != MODE_LINES && queued(&p->to_backend) >= PROXY_OUT_HIGH) return 0 ;
  if (p->cmode == MODE_LITERAL)
  {
    len = avail < p->cliteral ? avail : (size_t)p->cliteral ;
    if (!p->cliteral_discard) proxy_to_backend(p, s, len) ;
    b->start += len ;
    if (!(p->cliteral -= len)) { p->cmode = MODE_LINES ; p->cliteral_discard = 0 ; }
    return 1 ;
  }
  if (p->cmode == MODE_STREAM)
  {
    len = p->proto->client_stream(p, s, avail) ;
    if (len > avail) len = avail ;
    if (len) proxy_to_backend(p, s, len) ;
    b->start += len ;
    if (len < avail && p->cmode == MODE_STREAM) p->cmode = MODE_LINES ;  /* the stream ended here */
    return 1 ;
  }
  if (p->discarding)
  {
    lf = memchr(s, '\n', avail) ;
    b->start = lf ? (size_t)(lf - b->data) + 1 : b->end ;
    if (lf) p->discarding = 0 ;
    return 1 ;
  }
  if (!client_may_proceed(p)) return 0 ;
  lf = memchr(s, '\n', avail < max ? avail : max) ;
  if (!lf)
  {
    if (avail < max) return 0 ;  /* an incomplete line: wait for more */
    if (p->fifo_len) return 0 ;   /* the answer waits its turn */
    p->proto->client_bad_line(p, PROXY_LINE_TOO_LONG) ;
    p->discarding = 1 ;
    return 1 ;
  }
  len = (size_t)(lf - s) + 1 ;
  if (memchr(s, 0, len))
  {
    if (p->fifo_len) return 0 ;
    p->proto->client_bad_line(p, PROXY_LINE_NUL) ;
    b->start += len ;
    return 1 ;
  }
  p->line_end = b->start + len ;
  if (p->proto->client_line(p, s, len) == PROXY_WAIT) return 0 ;
  p->commands++ ;
  b->start += len ;
  return 1 ;
}

static int backend_step (proxy *p)
{
  inbuf *b = &p->bbuf ;
  char const *s = b->data + b->start ;
  size_t avail = b->end - b->start, len ;
  char const *lf ;
  /* Rule 4: while TLS starts, backend output waits; it will go out encrypted. */
  if (!avail || p->tls == TLS_STARTING || p->closing) return 0 ;
  if (queued(&p->to_client) >= PROXY_OUT_HIGH) return 0 ;
  if (p->bliteral)
  {
    len = avail < p->bliteral ? avail : (size_t)p->bliteral ;
    proxy_to_client(p, s, len) ;
    b->start += len ;
    p->bliteral -= len ;
    return 1 ;
  }
  lf = memchr(s, '\n', avail < p->proto->backend_line_max ? avail : p->proto->backend_line_max) ;
  if (lf) len = (size_t)(lf - s) + 1 ;
  /* No LF within the limit: a piece of exactly the limit (never more: what
     follows may be further lines), or the backend's last bytes. */
  else if (avail >= p->proto->backend_line_max) len = p->proto->backend_line_max ;
  else if (p->backend_eof) len = avail ;
  else return 0 ;
  b->start += len ;
  p->proto->backend_line(p, s, len) ;
  return 1 ;
}

static void compact (inbuf *b)
{
  if (b->start == b->end) b->start = b->end = 0 ;
  else if (b->start && b->end == sizeof(b->data))
  {
    memmove(b->data, b->data + b->start, b->end - b->start) ;
    b->end -= b->start ;
    b->start = 0 ;
  }
}

/* Reads what fd has into b. Returns 1 if bytes came, 0 if none now, -1 at EOF or error. */
static int fill (int fd, inbuf *b)
{
  ssize_t r ;
  compact(b) ;
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
    q->pos += (size_t)w ;
  }
  q->pos = q->s.len = 0 ;
  return 0 ;
}

static void close_fd (int *fd)
{
  if (*fd >= 0) close(*fd) ;
  *fd = -1 ;
}

int proxy_loop (proxy *p)
{
  tain deadline ;
  tain_now_set_stopwatch_g() ;
  deadline_in(&deadline, p->o->idle_ms) ;
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0 ;
    int ci = -1, co = -1, bi = -1, bo = -1, r ;
    while (client_step(p) || backend_step(p)) ;

    /* The client's end: forward EOF to the backend once its input is all handled. */
    if (p->client_eof && p->bout >= 0 && p->cbuf.start == p->cbuf.end && !queued(&p->to_backend))
      close_fd(&p->bout) ;
    if (p->client_eof && p->cmode == MODE_LINES && !p->discarding && p->bout >= 0 && !queued(&p->to_backend)
     && p->cbuf.end > p->cbuf.start && !memchr(p->cbuf.data + p->cbuf.start, '\n', p->cbuf.end - p->cbuf.start))
      p->cbuf.start = p->cbuf.end ;  /* an unterminated last line is never executed */
    if (p->tls == TLS_STARTING && !queued(&p->to_client))
    {
      r = proxy_handoff(p) ;
      if (r < 0) return UST_EXIT_TLS ;
      if (r > 0) return 0 ;  /* direct handoff: the engine and the backend talk alone */
      deadline_in(&deadline, p->o->idle_ms) ;
      continue ;
    }
    if (!queued(&p->to_client))
    {
      if (p->closing) return p->exitcode ;
      if (p->backend_eof && p->bbuf.start == p->bbuf.end) return p->exitcode ;
    }

    /* Held lines wait for a backend reply (STARTTLS's RSET, DATA's 354, a
       literal's +): bytes after them stay in the kernel. After STARTTLS that
       is rule 3: the engine, not us, reads what follows the command. */
    if (!p->client_eof && !p->client_held && p->cin >= 0 && p->tls != TLS_STARTING && !p->closing && p->cbuf.end - p->cbuf.start < sizeof(p->cbuf.data))
    { ci = n ; x[n].fd = p->cin ; x[n++].events = IOPAUSE_READ ; }
    if (queued(&p->to_client)) { co = n ; x[n].fd = p->cout ; x[n++].events = IOPAUSE_WRITE ; }
    if (!p->backend_eof && p->tls != TLS_STARTING && p->bbuf.end - p->bbuf.start < sizeof(p->bbuf.data))
    { bi = n ; x[n].fd = p->bin ; x[n++].events = IOPAUSE_READ ; }
    if (queued(&p->to_backend) && p->bout >= 0) { bo = n ; x[n].fd = p->bout ; x[n++].events = IOPAUSE_WRITE ; }

    r = iopause_g(x, n, &deadline) ;
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
        /* The client left, its EOF went to the backend, and the backend does
           not end: it holds the connection's pid, so it is told to. */
        proxy_log(p, 1, "the backend did not end after the client left: terminating it", 0, 0) ;
        if (p->backend_pid > 1 && getppid() == p->backend_pid) kill(p->backend_pid, SIGTERM) ;
        return UST_EXIT_IDLE ;
      }
      if (p->closing || p->tls == TLS_STARTING) return UST_EXIT_IDLE ;
      proxy_log(p, 1, "idle timeout", 0, 0) ;
      p->proto->idle_timeout(p) ;
      p->closing = 1 ;
      p->exitcode = UST_EXIT_IDLE ;
      deadline_in(&deadline, 10000) ;  /* the goodbye gets a short while to go out */
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
      if (got > 0) deadline_in(&deadline, p->o->idle_ms) ;
      if (got < 0)
      {
        p->client_eof = 1 ;
        deadline_in(&deadline, p->o->idle_ms && p->o->idle_ms < PROXY_GRACE_MS ? p->o->idle_ms : PROXY_GRACE_MS) ;
      }
    }
    if (bi >= 0 && x[bi].revents)
    {
      int got = fill(p->bin, &p->bbuf) ;
      if (got > 0) deadline_in(&deadline, p->client_eof && (!p->o->idle_ms || p->o->idle_ms > PROXY_GRACE_MS) ? PROXY_GRACE_MS : p->o->idle_ms) ;
      if (got < 0) p->backend_eof = 1 ;
    }
  }
}

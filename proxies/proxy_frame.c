/* proxy_frame.c: the framework's framing and dispatch, without descriptors:
   what bytes already read mean, and when a side may be read, written or
   ended. proxy_loop.c does the reading, writing and waiting around it; the
   fuzz harness (tests/fuzz/proxy_harness.c) drives the same functions. */
#include <string.h>
#include "proxy-internal.h"

size_t proxy_queued (outq const *q) { return q->s.len - q->pos ; }

void proxy_sent (outq *q, size_t n)
{
  q->pos += n ;
  if (q->pos >= q->s.len) { q->pos = q->s.len = 0 ; return ; }
  /* A reader always a little behind never empties the queue: without this,
     all it ever took would stay in memory (a whole mailbox, for a slow client). */
  if (q->pos >= q->s.len - q->pos)
  {
    memmove(q->s.s, q->s.s + q->pos, q->s.len - q->pos) ;
    q->s.len -= q->pos ;
    q->pos = 0 ;
  }
}

/* Client lines may be taken when nothing upstream is congested. */
static int client_may_proceed (proxy const *p)
{
  return !p->client_held && !p->closing && p->tls != TLS_STARTING
    && proxy_queued(&p->to_backend) < PROXY_OUT_HIGH && proxy_queued(&p->to_client) < PROXY_OUT_HIGH
    && p->fifo_len < PROXY_PENDING_MAX ;
}

int proxy_client_step (proxy *p)
{
  inbuf *b = &p->cbuf ;
  char const *s = b->data + b->start ;
  size_t avail = b->end - b->start, max = p->line_max, len ;
  char const *lf ;
  if (!avail || p->closing || p->tls == TLS_STARTING) return 0 ;
  /* Data (literals, chunks, bodies) waits like lines do while the backend is
     behind: without this a client could fill our memory with a message the
     backend does not read. */
  if (p->cmode != MODE_LINES && proxy_queued(&p->to_backend) >= PROXY_OUT_HIGH) return 0 ;
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
    if (p->proto->client_bad_line(p, PROXY_LINE_TOO_LONG, s, max) == PROXY_WAIT) return 0 ;  /* the answer waits its turn */
    p->discarding = 1 ;
    return 1 ;
  }
  len = (size_t)(lf - s) + 1 ;
  if (memchr(s, 0, len))
  {
    if (p->proto->client_bad_line(p, PROXY_LINE_NUL, s, len) == PROXY_WAIT) return 0 ;
    b->start += len ;
    return 1 ;
  }
  p->line_end = b->start + len ;
  if (p->proto->client_line(p, s, len) == PROXY_WAIT) return 0 ;
  p->commands++ ;
  b->start += len ;
  return 1 ;
}

int proxy_backend_step (proxy *p)
{
  inbuf *b = &p->bbuf ;
  char const *s = b->data + b->start ;
  size_t avail = b->end - b->start, len ;
  char const *lf ;
  /* Rule 4: while TLS starts, backend output waits; it will go out encrypted. */
  if (!avail || p->tls == TLS_STARTING || p->closing) return 0 ;
  if (proxy_queued(&p->to_client) >= PROXY_OUT_HIGH) return 0 ;
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

void proxy_inbuf_compact (inbuf *b)
{
  if (b->start == b->end) b->start = b->end = 0 ;
  else if (b->start && b->end == sizeof(b->data))
  {
    memmove(b->data, b->data + b->start, b->end - b->start) ;
    b->end -= b->start ;
    b->start = 0 ;
  }
}

int proxy_client_eof_due (proxy *p)
{
  /* Before the EOF goes on (below): dropping it empties the buffer, and nothing
     else would wake us up to forward the EOF. */
  if (p->client_eof && p->cmode == MODE_LINES && !p->discarding && p->bout >= 0 && !proxy_queued(&p->to_backend)
   && p->cbuf.end > p->cbuf.start && !memchr(p->cbuf.data + p->cbuf.start, '\n', p->cbuf.end - p->cbuf.start))
    p->cbuf.start = p->cbuf.end ;  /* an unterminated last line is never executed */
  /* The client's end: forward EOF to the backend once its input is all handled. */
  return p->client_eof && p->bout >= 0 && p->cbuf.start == p->cbuf.end && !proxy_queued(&p->to_backend) ;
}

int proxy_handoff_due (proxy const *p) { return p->tls == TLS_STARTING && !proxy_queued(&p->to_client) ; }

int proxy_session_over (proxy const *p)
{
  if (proxy_queued(&p->to_client)) return 0 ;
  return p->closing || (p->backend_eof && p->bbuf.start == p->bbuf.end) ;
}

/* Held lines wait for a backend reply (STARTTLS's RSET, DATA's 354, a
   literal's +): bytes after them stay in the kernel. After STARTTLS that
   is rule 3: the engine, not us, reads what follows the command. */
int proxy_client_wanted (proxy const *p)
{
  return !p->client_eof && !p->client_held && p->cin >= 0 && p->tls != TLS_STARTING && !p->closing
    && p->cbuf.end - p->cbuf.start < sizeof(p->cbuf.data) ;
}

int proxy_backend_wanted (proxy const *p)
{
  return !p->backend_eof && p->tls != TLS_STARTING && p->bbuf.end - p->bbuf.start < sizeof(p->bbuf.data) ;
}

/* Part of a command line has come and is being read: its end is awaited. */
int proxy_client_partial (proxy const *p)
{
  if (p->cmode != MODE_LINES || !proxy_client_wanted(p)) return 0 ;
  if (p->discarding) return 1 ;
  return p->cbuf.end > p->cbuf.start && p->cbuf.data[p->cbuf.end - 1] != '\n' ;
}

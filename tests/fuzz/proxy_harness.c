/* proxy_harness.c: see proxy_harness.h. It replaces proxy_loop.c (the
   waiting, reading and writing) and proxy_handoff.c (the kernel side of the
   handoff), and drives proxy_frame.c the way proxy_loop.c does. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sanitizer/allocator_interface.h>
#include <skalibs/stralloc.h>
#include "proxy-internal.h"
#include "proxy_harness.h"

/* What the two sides may send in one input, repeats included. */
#define SEND_MAX (2U << 20)

/* The memory a session may hold, whatever the peers do. Each output queue:
   below PROXY_OUT_HIGH when something is produced, plus one production (a
   backend line or literal piece up to PROXY_INBUF, rewritten: an EHLO reply
   of up to 64 KiB, a CAPA list); the protocols' own collections (EHLO reply,
   capability line, CAPA list), each a couple of lines; the reply FIFO, which
   backpressure keeps near PROXY_PENDING_MAX; stralloc's 1/8 of slack on all. */
#define QUEUE_BOUND (PROXY_OUT_HIGH + 2 * PROXY_INBUF)
#define MEM_BOUND ((2 * QUEUE_BOUND + 4 * PROXY_INBUF + 4 * PROXY_PENDING_MAX * sizeof(int)) * 9 / 8 + 65536)

#define check(x) do { if (!(x)) abort() ; } while (0)

static proxy pr ;

static struct {
  harness_target const *t ;
  proxy_protocol real, proto ;   /* the protocol's callbacks, and ours around them */
  proxy_options o ;
  unsigned int options ;
  int over ;
  stralloc cq, bq ;              /* "the kernel": sent by the client / the backend, not read yet */
  size_t cqpos, bqpos ;
  int ceof, beof ;               /* that side closed after what cq / bq hold */
  uint64_t cdelivered, bdelivered ;  /* bytes the proxy read from each side */
  uint64_t cread, bread ;        /* bytes each side read of what the proxy queued for it */
  stralloc cseen, bseen ;        /* with HARNESS_CAPTURE: what each side read */
  size_t sent ;
  unsigned int lines ;           /* client lines handed to the protocol */
  int line_starttls ;            /* the last one was a STARTTLS command */
  uint64_t line_consumed, line_delivered ;  /* client bytes consumed / read when it ended */
  int starting ;                 /* TLS_STARTING seen */
  uint64_t mfed ;                /* bytes queued for the backend that the backend models read */
  uint64_t replies ;             /* backend replies the protocol completed (FIFO entries popped) */
  unsigned int starts ;
  uint64_t s_ctotal, s_btotal, s_cconsumed, s_bconsumed, s_cdelivered ;
  size_t mem_base ;
  int alive_fd, dead_fd ;        /* the control socket: a live controller, a dead one */
} h = { .cq = STRALLOC_ZERO, .bq = STRALLOC_ZERO, .cseen = STRALLOC_ZERO, .bseen = STRALLOC_ZERO, .alive_fd = -1 } ;

/* Everything the proxy ever queued for the client / the backend. */
static uint64_t ctotal (void) { return h.cread + proxy_queued(&pr.to_client) ; }
static uint64_t btotal (void) { return h.bread + proxy_queued(&pr.to_backend) ; }
/* Client / backend bytes the proxy read and handled (forwarded, answered or dropped). */
static uint64_t cconsumed (void) { return h.cdelivered - (pr.cbuf.end - pr.cbuf.start) ; }
static uint64_t bconsumed (void) { return h.bdelivered - (pr.bbuf.end - pr.bbuf.start) ; }

/* Is the line the STARTTLS command (the verb, after the tag for IMAP)? */
static int is_starttls (char const *line, size_t len)
{
  size_t n = strlen(h.t->verb), i = 0 ;
  if (h.t->tagged)
  {
    while (i < len && line[i] != ' ') i++ ;
    i++ ;
  }
  if (i + n > len || strncasecmp(line + i, h.t->verb, n)) return 0 ;
  return i + n == len || line[i + n] == ' ' || line[i + n] == '\r' || line[i + n] == '\n' ;
}

/* The backend models (backend_model.h) read what the proxy forwards as it
   is queued, while TLS may still start: once it cannot, what a server
   makes of the bytes no longer matters to a STARTTLS boundary. */
static void model_sync (void)
{
  proxy *p = &pr ;
  outq const *q = &p->to_backend ;
  uint64_t n = btotal() - h.mfed ;
  if (bmodel_on() && (p->desync || (p->tls != TLS_OFFERED && p->tls != TLS_STARTING))) bmodel_close() ;
  if (n && bmodel_on())
  {
    check(n <= proxy_queued(q)) ;
    bmodel_forwarded(q->s.s + q->s.len - n, (size_t)n) ;
  }
  h.mfed += n ;
}

/* At the accept every command forwarded has had its reply (the greeting
   is none), and every model must have framed those very commands and be
   at a boundary. */
static void check_models (void)
{
  if (!bmodel_on()) return ;
  check(!proxy_pending(&pr) && h.replies >= 1) ;
  bmodel_check(h.replies - 1) ;
  bmodel_close() ;
}

/* Rules 3 and 4, checked after every step. */
static void check_starting (void)
{
  proxy *p = &pr ;
  model_sync() ;
  if (p->tls == TLS_STARTING && !h.starting)
  {
    size_t n = strlen(h.t->ok_reply) ;
    outq const *q = &p->to_client ;
    h.starting = 1 ;
    check(++h.starts == 1) ;                      /* TLS starts once */
    check(h.line_starttls) ;                      /* accepted for a STARTTLS command, ... */
    check(cconsumed() == h.line_consumed) ;       /* ... no client byte after its line was handled, */
    check(h.cdelivered == h.line_delivered) ;     /* nor even read, */
    check(p->cbuf.start == p->cbuf.end) ;         /* nor is any waiting */
    check(proxy_queued(q) >= n && !memcmp(q->s.s + q->s.len - n, h.t->ok_reply, n)) ;  /* the reply ends the output */
    h.s_ctotal = ctotal() ; h.s_btotal = btotal() ;
    h.s_cconsumed = cconsumed() ; h.s_bconsumed = bconsumed() ; h.s_cdelivered = h.cdelivered ;
    check_models() ;
  }
  if (h.starting)
  {
    check(p->tls == TLS_STARTING) ;
    check(ctotal() == h.s_ctotal) ;               /* the success reply stays the last cleartext byte */
    check(btotal() == h.s_btotal) ;               /* nothing reaches the backend, */
    check(cconsumed() == h.s_cconsumed) ;         /* no client byte is handled, */
    check(h.cdelivered == h.s_cdelivered) ;       /* nor read, */
    check(bconsumed() == h.s_bconsumed) ;         /* backend output waits */
  }
}

/* The proxies' unpredictable values (IMAP's STARTTLS probe tag) are
   predictable here, "ust0000000000000000", so that inputs can answer them:
   this definition comes before libskarnet's at link time. */
void random_buf (char *s, size_t n) { memset(s, 0, n) ; }

static void check_memory (void)
{
  size_t now = __sanitizer_get_current_allocated_bytes() ;
  size_t ours = h.cq.a + h.bq.a + h.cseen.a + h.bseen.a + bmodel_memory() ;
  check(now <= h.mem_base + ours || now - h.mem_base - ours <= MEM_BOUND) ;
}

static proxy_verdict w_client_line (proxy *p, char const *line, size_t len)
{
  uint64_t b0 = btotal(), c0 = ctotal(), grew ;
  proxy_verdict v ;
  /* The framework offers only whole lines, within the limit, without NUL. */
  check(len && len <= p->line_max && line[len - 1] == '\n' && !memchr(line, 0, len)) ;
  check(line == p->cbuf.data + p->cbuf.start && p->tls != TLS_STARTING && !p->closing) ;
  v = h.real.client_line(p, line, len) ;
  grew = btotal() - b0 ;
  if (v == PROXY_WAIT) { check(!grew && ctotal() == c0) ; return v ; }
  /* What went to the backend is this line, or the protocol's STARTTLS probe
     (SMTP's RSET, IMAP's 26-byte NOOP): no NUL, nothing longer. */
  check(grew <= (len > 26 ? len : 26)) ;
  check(!grew || !memchr(p->to_backend.s.s + p->to_backend.s.len - grew, 0, grew)) ;
  h.lines++ ;
  h.line_starttls = is_starttls(line, len) ;
  h.line_consumed = cconsumed() + len ;
  h.line_delivered = h.cdelivered ;
  return v ;
}

/* Each backend line goes to the models as the proxy reads it; the replies
   it completes are counted: the FIFO's head moves by them (a resize, which
   only a push into a full FIFO makes, comes with none). */
static void w_backend_line (proxy *p, char const *line, size_t len)
{
  unsigned int size = p->fifo_size, head = p->fifo_head ;
  bmodel_reply(line, len) ;
  h.real.backend_line(p, line, len) ;
  if (size && p->fifo_size == size) h.replies += (p->fifo_head + size - head) % size ;
}

static proxy_verdict w_client_bad_line (proxy *p, proxy_badline why, char const *line, size_t len)
{
  uint64_t b0 = btotal() ;
  proxy_verdict v = h.real.client_bad_line(p, why, line, len) ;
  check(btotal() == b0) ;  /* a refused line goes nowhere */
  return v ;
}

static int client_step (void)
{
  proxy *p = &pr ;
  client_mode mode = p->cmode ;
  int discard = p->cliteral_discard ;
  uint64_t lit = p->cliteral, b0 = btotal(), c0 = ctotal(), k0 = cconsumed(), grew, took ;
  unsigned int lines = h.lines ;
  int r = proxy_client_step(p) ;
  grew = btotal() - b0 ;
  took = cconsumed() - k0 ;
  if (!r) check(!grew && !took && ctotal() == c0) ;
  /* Lines reach the backend only through the protocol: a NUL or overlong
     line, and the rest of one, never do. */
  if (mode == MODE_LINES && h.lines == lines) check(!grew) ;
  if (mode == MODE_LITERAL) check(took <= lit && grew == (discard ? 0 : took)) ;
  /* A body goes as it is inside TLS; before TLS normalised: every CR of it
     followed by LF, every LF preceded by CR (what no server frames apart). */
  if (mode == MODE_STREAM && proxy_tls_active(p)) check(grew == took) ;
  if (mode == MODE_STREAM && !proxy_tls_active(p) && grew)
  {
    char const *g = p->to_backend.s.s + p->to_backend.s.len - grew ;
    /* each byte taken gives two at most (a bare CR or LF goes as CRLF);
       what an earlier step held back, a line "." and its CR, gives four
       (".." CRLF) */
    check(grew <= 2 * took + 4) ;
    for (uint64_t i = 0 ; i < grew ; i++)
    {
      if (g[i] == '\r') check(i + 1 < grew && g[i + 1] == '\n') ;
      if (g[i] == '\n') check(i && g[i - 1] == '\r') ;
    }
  }
  check_starting() ;
  return r ;
}

static int backend_step (void)
{
  uint64_t b0 = btotal() ;
  int r = proxy_backend_step(&pr) ;
  check(btotal() == b0) ;  /* backend output never goes back to the backend */
  check_starting() ;
  return r ;
}

/* The kernel hands what a side sent to the proxy, as fill() in proxy_loop.c reads it. */
static int deliver (inbuf *b, stralloc *q, size_t *pos, int eof, int *peof, uint64_t *count)
{
  size_t room, n = q->len - *pos ;
  proxy_inbuf_compact(b) ;
  room = sizeof(b->data) - b->end ;
  if (!room) return 0 ;
  if (n)
  {
    if (n > room) n = room ;
    memcpy(b->data + b->end, q->s + *pos, n) ;
    b->end += n ;
    *pos += n ;
    *count += n ;
    if (*pos == q->len) *pos = q->len = 0 ;
    return 1 ;
  }
  if (eof && !*peof) { *peof = 1 ; return 1 ; }
  return 0 ;
}

/* What proxy_loop does until it would wait. */
static void settle (void)
{
  proxy *p = &pr ;
  while (!h.over)
  {
    int moved = 0 ;
    while (client_step() || backend_step()) ;
    if (proxy_client_eof_due(p)) p->bout = -1 ;
    if (proxy_handoff_due(p))
    {
      if (proxy_handoff(p) < 0) h.over = 1 ;
      continue ;
    }
    if (proxy_session_over(p)) { h.over = 1 ; break ; }
    if (proxy_client_wanted(p)) moved |= deliver(&p->cbuf, &h.cq, &h.cqpos, h.ceof, &p->client_eof, &h.cdelivered) ;
    if (proxy_backend_wanted(p)) moved |= deliver(&p->bbuf, &h.bq, &h.bqpos, h.beof, &p->backend_eof, &h.bdelivered) ;
    check_starting() ;
    if (!(h.options & HARNESS_CAPTURE)) check_memory() ;
    if (!moved) break ;
  }
}

/* The handoff without a controller: the checks, then success unless the
   handshake fails, the controller died, or the client sent cleartext after
   STARTTLS (the engine takes it for TLS records: the handshake fails). */
int proxy_handoff (proxy *p)
{
  static tlsinfo const info = { .protocol = "TLSv1.3", .cipher = "TLS_AES_128_GCM_SHA256" } ;
  check(h.starting && p->tls == TLS_STARTING && !proxy_queued(&p->to_client)) ;
  check(p->cbuf.start == p->cbuf.end) ;  /* the protocols refuse STARTTLS when bytes follow it */
  check(ctotal() == h.s_ctotal && h.cread == h.s_ctotal) ;  /* the client read the reply, last */
  h.starting = 0 ;
  if (h.options & HARNESS_HANDSHAKE_FAILS || p->u.ctl != h.alive_fd || h.cq.len > h.cqpos || h.ceof) return -1 ;
  p->u.ctl = -1 ;
  p->tls = TLS_ACTIVE ;
  if (p->proto->tls_started) p->proto->tls_started(p, &info) ;
  return 0 ;
}

/* Linked instead of src/lib's: the descriptors are the harness's. */
void ucspitls_decline (ucspitls *u) { u->ctl = u->rfd = u->wfd = -1 ; }

void harness_open (harness_target const *t, unsigned int options)
{
  proxy *p = &pr ;
  if (h.alive_fd < 0)
  {
    int a[2], d[2] ;
    if (pipe(a) < 0 || pipe(d) < 0) abort() ;
    h.alive_fd = a[0] ;  /* a[1] stays open: no EOF */
    h.dead_fd = d[0] ;
    close(d[1]) ;
  }
  harness_close() ;
  h.t = t ;
  h.options = options ;
  h.over = h.ceof = h.beof = 0 ;
  h.cqpos = h.bqpos = h.sent = 0 ;
  h.cdelivered = h.bdelivered = h.cread = h.bread = 0 ;
  h.lines = 0 ; h.line_starttls = 0 ; h.line_consumed = h.line_delivered = 0 ;
  h.starting = 0 ; h.starts = 0 ;
  h.mfed = h.replies = 0 ;
  if (t->model && !(options & HARNESS_NO_TLS)) bmodel_open(t->model) ;
  t->protocol(&h.real, options & HARNESS_SHORT_LINES ? t->line_min : t->line_max) ;
  h.proto = h.real ;
  h.proto.client_line = w_client_line ;
  h.proto.client_bad_line = w_client_bad_line ;
  h.proto.backend_line = w_backend_line ;
  h.o.idle_ms = 0 ; h.o.verbosity = 0 ; h.o.stay = 0 ;
  h.o.require_tls = !!(options & HARNESS_REQUIRE_TLS) ;
  memset(p, 0, sizeof(*p)) ;
  p->proto = &h.proto ;
  p->o = &h.o ;
  p->cin = 0 ; p->cout = 1 ; p->bin = 2 ; p->bout = 3 ;  /* never used: only compared with -1 */
  p->u.ctl = options & HARNESS_NO_TLS ? -1 : h.alive_fd ;
  p->u.rfd = p->u.wfd = -1 ;
  p->tls = options & HARNESS_NO_TLS ? TLS_UNAVAILABLE : TLS_OFFERED ;
  proxy_client_line_max(p, 0) ;
  h.mem_base = __sanitizer_get_current_allocated_bytes() ;
  proxy_session_begin(p) ;
  settle() ;
}

void harness_close (void)
{
  bmodel_close() ;
  proxy_session_end(&pr) ;
  stralloc_free(&pr.to_client.s) ;
  stralloc_free(&pr.to_backend.s) ;
  free(pr.fifo) ;
  pr.fifo = 0 ; pr.fifo_size = pr.fifo_len = 0 ;
  stralloc_free(&h.cq) ; stralloc_free(&h.bq) ;
  stralloc_free(&h.cseen) ; stralloc_free(&h.bseen) ;
}

int harness_over (void) { return h.over ; }
int harness_tls (void) { return pr.tls == TLS_ACTIVE ; }
unsigned int harness_pending (void) { return proxy_pending(&pr) ; }
char const *harness_client_seen (size_t *len) { *len = h.cseen.len ; return h.cseen.s ; }
char const *harness_backend_seen (size_t *len) { *len = h.bseen.len ; return h.bseen.s ; }

/* A flood arrives at once: the proxy reads it as the kernel gives it, a buffer at a time. */
static void sends (stralloc *q, int eof, char const *s, size_t len, size_t times)
{
  if (h.over || eof) return ;
  while (times--) if (!stralloc_catb(q, s, len)) abort() ;
  settle() ;
}

void harness_client_sends (char const *s, size_t len) { sends(&h.cq, h.ceof, s, len, 1) ; }
void harness_backend_sends (char const *s, size_t len) { sends(&h.bq, h.beof, s, len, 1) ; }

static void reads (outq *q, size_t max, uint64_t *count, stralloc *seen)
{
  size_t n = proxy_queued(q) ;
  if (h.over) return ;
  if (n > max) n = max ;
  if (n && h.options & HARNESS_CAPTURE && !stralloc_catb(seen, q->s.s + q->pos, n)) abort() ;
  if (q == &pr.to_backend) check(h.mfed == btotal()) ;  /* the models read it all already */
  *count += n ;
  proxy_sent(q, n) ;
  settle() ;
}

void harness_client_reads (size_t max) { reads(&pr.to_client, max, &h.cread, &h.cseen) ; }
/* A backend whose input the proxy closed reads nothing more. */
void harness_backend_reads (size_t max) { if (pr.bout >= 0) reads(&pr.to_backend, max, &h.bread, &h.bseen) ; }
void harness_client_eof (void) { if (!h.over) { h.ceof = 1 ; settle() ; } }
void harness_backend_eof (void) { if (!h.over) { h.beof = 1 ; settle() ; } }

void harness_controller_dies (void)
{
  if (h.over) return ;
  if (pr.u.ctl >= 0) pr.u.ctl = h.dead_fd ;
  settle() ;
}

/* As proxy_loop when its deadline passes. */
void harness_idle_timeout (void)
{
  proxy *p = &pr ;
  if (h.over) return ;
  if (p->client_eof || p->closing || p->tls == TLS_STARTING) { h.over = 1 ; return ; }
  p->proto->idle_timeout(p) ;
  p->closing = 1 ;
  settle() ;
}

/* Input: an options byte (HARNESS_*, capture aside), then events. An event
   is an op byte: its low 3 bits say what, the high 5 bits (f) qualify it.
     0, 1  the client / the backend sends: a length byte, then that many
           bytes (fewer at the end of the input); with f & 16, 1 << (f & 15)
           times over (a peer that floods)
     2, 3  the client / the backend reads: ((byte + 1) << (f & 15)) bytes
           at most, everything queued if f & 16
     4, 5  the client / the backend closes its end
     6     f & 1: the controller dies; else the idle deadline passes
     7     both sides read everything queued for them */
/* The end of every input: the backend answers what awaits a reply (a few
   rounds: an answer may be taken for part of a multi-line one), the client
   asks for TLS once both sides have read everything, and the backend
   proves its boundary if asked. The session may refuse; if it accepts,
   check_models judges what came before. */
static void try_tls (harness_target const *t)
{
  harness_client_reads((size_t)-1) ;
  harness_backend_reads((size_t)-1) ;
  for (unsigned int i = 0, n = harness_pending() ; t->any_reply && i < 2 * n + 2 && harness_pending() && !h.over ; i++)
  {
    harness_backend_sends(t->any_reply, strlen(t->any_reply)) ;
    harness_client_reads((size_t)-1) ;
    harness_backend_reads((size_t)-1) ;
  }
  harness_client_sends(t->try_tls, strlen(t->try_tls)) ;
  harness_backend_reads((size_t)-1) ;
  if (t->probe_ok) harness_backend_sends(t->probe_ok, strlen(t->probe_ok)) ;
  harness_client_reads((size_t)-1) ;
}

int harness_run (harness_target const *t, uint8_t const *data, size_t size)
{
  size_t i = 1 ;
  if (!size) return 0 ;
  harness_open(t, data[0] & ~HARNESS_CAPTURE) ;
  while (i < size && !h.over)
  {
    unsigned int op = data[i] & 7, f = data[i] >> 3 ;
    i++ ;
    switch (op)
    {
      case 0 : case 1 :
      {
        size_t len = i < size ? data[i++] : 0, times = f & 16 ? (size_t)1 << (f & 15) : 1 ;
        char const *s = (char const *)data + i ;
        if (len > size - i) len = size - i ;
        i += len ;
        if (!len) break ;
        if (times > (SEND_MAX - h.sent) / len) times = (SEND_MAX - h.sent) / len ;
        h.sent += len * times ;
        if (times) sends(op ? &h.bq : &h.cq, op ? h.beof : h.ceof, s, len, times) ;
        break ;
      }
      case 2 : case 3 :
      {
        size_t max = f & 16 ? (size_t)-1 : (size_t)((i < size ? data[i++] : 0) + 1) << (f & 15) ;
        if (op == 2) harness_client_reads(max) ; else harness_backend_reads(max) ;
        break ;
      }
      case 4 : harness_client_eof() ; break ;
      case 5 : harness_backend_eof() ; break ;
      case 6 : if (f & 1) harness_controller_dies() ; else harness_idle_timeout() ; break ;
      case 7 : harness_client_reads((size_t)-1) ; harness_backend_reads((size_t)-1) ; break ;
    }
  }
  if (t->try_tls && bmodel_on()) try_tls(t) ;
  harness_close() ;
  return 0 ;
}

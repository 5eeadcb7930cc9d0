/* proxy_api.c: what a protocol file may ask of the framework. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
#include "proxy-internal.h"

void proxy_cats (stralloc *sa, char const *s) { ust_catb(sa, s, strlen(s)) ; }

static void queue (outq *q, char const *s, size_t len) { ust_catb(&q->s, s, len) ; }

void proxy_to_client (proxy *p, char const *s, size_t len)
{
  /* Rule 4: once the success reply is queued, nothing more goes out in cleartext. */
  if (p->tls == TLS_STARTING) return ;
  queue(&p->to_client, s, len) ;
}

void proxy_to_backend (proxy *p, char const *s, size_t len) { queue(&p->to_backend, s, len) ; }
void proxy_say (proxy *p, char const *s) { proxy_to_client(p, s, strlen(s)) ; }

void proxy_expect (proxy *p, int kind)
{
  if (p->fifo_len == p->fifo_size)
  {
    unsigned int size = p->fifo_size ? p->fifo_size * 2 : 64 ;
    int *f = malloc(size * sizeof(int)) ;
    if (!f) strerr_diefsys(UST_EXIT_SYS, "out of memory") ;
    for (unsigned int i = 0 ; i < p->fifo_len ; i++) f[i] = p->fifo[(p->fifo_head + i) % p->fifo_size] ;
    free(p->fifo) ;
    p->fifo = f ; p->fifo_size = size ; p->fifo_head = 0 ;
  }
  p->fifo[(p->fifo_head + p->fifo_len) % p->fifo_size] = kind ;
  p->fifo_len++ ;
}

int proxy_expected (proxy const *p) { return p->fifo_len ? p->fifo[p->fifo_head] : -1 ; }

void proxy_reply_done (proxy *p)
{
  if (!p->fifo_len) return ;
  p->fifo_head = (p->fifo_head + 1) % p->fifo_size ;
  p->fifo_len-- ;
}

unsigned int proxy_pending (proxy const *p) { return p->fifo_len ; }

void proxy_client_literal (proxy *p, uint64_t n) { if (n) { p->cmode = MODE_LITERAL ; p->cliteral = n ; p->cliteral_discard = 0 ; } }
void proxy_client_discard (proxy *p, uint64_t n) { if (n) { p->cmode = MODE_LITERAL ; p->cliteral = n ; p->cliteral_discard = 1 ; } }
void proxy_client_stream (proxy *p) { p->cmode = MODE_STREAM ; }
void proxy_client_lines (proxy *p) { p->cmode = MODE_LINES ; }
void proxy_client_hold (proxy *p) { p->client_held = 1 ; }
void proxy_client_resume (proxy *p) { p->client_held = 0 ; }
void proxy_backend_literal (proxy *p, uint64_t n) { p->bliteral = n ; }

void proxy_client_line_max (proxy *p, size_t max)
{
  p->line_max = max ? max : p->proto->client_line_max ;
  if (p->line_max > PROXY_INBUF) p->line_max = PROXY_INBUF ;
}

size_t proxy_client_unhandled (proxy const *p) { return p->cbuf.end - p->line_end ; }

int proxy_tls_available (proxy *p)
{
  struct pollfd x ;
  if (p->tls != TLS_OFFERED || p->desync) return 0 ;
  /* A controller that died leaves EOF (or an error) on the control socket. */
  x.fd = p->u.ctl ; x.events = POLLIN ; x.revents = 0 ;
  if (poll(&x, 1, 0) > 0)
  {
    proxy_log(p, 1, "the UCSPI-TLS controller is gone: TLS is not available", 0, 0) ;
    ucspitls_decline(&p->u) ;
    p->tls = TLS_UNAVAILABLE ;
    return 0 ;
  }
  return 1 ;
}

int proxy_tls_active (proxy const *p) { return p->tls == TLS_ACTIVE ; }
int proxy_require_tls (proxy const *p) { return p->o->require_tls ; }

void proxy_backend_capabilities (proxy *p, int offers)
{
  if (offers) p->backend_caps = 2 ;
  else if (!p->backend_caps) p->backend_caps = 1 ;
}

void proxy_starttls (proxy *p)
{
  if (p->tls != TLS_OFFERED) return ;
  p->tls = TLS_STARTING ;
}

void proxy_decline (proxy *p)
{
  if (p->tls != TLS_OFFERED) return ;
  ucspitls_decline(&p->u) ;
  p->tls = TLS_DECLINED ;
  proxy_log(p, 2, "the client goes on in cleartext: TLS declined", 0, 0) ;
}

void proxy_trace (proxy *p, char const *line, size_t len, size_t skip)
{
  char word[24] ;
  size_t n = 0 ;
  if (p->o->verbosity < 2 || p->traced == p->commands + 1) return ;
  p->traced = p->commands + 1 ;  /* p->commands counts the lines taken so far */
  while (skip < len && n + 1 < sizeof(word) && line[skip] > ' ' && line[skip] < 0x7f) word[n++] = line[skip++] ;
  word[n] = 0 ;
  proxy_log(p, 2, proxy_tls_active(p) ? "command in TLS: " : "command: ", word, 0) ;
}

void proxy_close (proxy *p) { p->closing = 1 ; }

void proxy_note_injection (proxy *p) { p->injections++ ; }

void proxy_log (proxy const *p, unsigned int level, char const *a, char const *b, char const *c)
{
  char const *ip = getenv("TCPREMOTEIP") ;
  if (p->o->verbosity < level) return ;
  strerr_warn(PROG, ": info: ", ip ? ip : "-", ": ", a, b ? b : "", c ? c : "") ;
}

int proxy_desync (proxy *p, char const *what)
{
  if (!p->desync)
  {
    p->desync = 1 ;
    proxy_note_injection(p) ;
    proxy_log(p, 1, "the backend is out of step with the proxy (", what, "): STARTTLS is refused from now on") ;
  }
  return p->o->require_tls && p->tls != TLS_ACTIVE ;
}

int proxy_desynced (proxy const *p) { return p->desync ; }

int proxy_crlf_line (char const *line, size_t len)
{
  return len >= 2 && line[len - 2] == '\r' && !memchr(line, '\r', len - 2) ;
}

int proxy_plain_line (char const *line, size_t len, proxy_plain how)
{
  if (!proxy_crlf_line(line, len) || line[0] == ' ') return 0 ;
  len -= 2 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = (unsigned char)line[i] ;
    if (c < 0x20 || c == 0x7f) return 0 ;
    if (how == PROXY_PLAIN_CTL) continue ;
    if (c > 0x7f) return 0 ;
    if (c == ' ' && (i + 1 == len || line[i + 1] == ' ')) return 0 ;
  }
  return 1 ;
}

int proxy_cleartext_strict (proxy *p)
{
  if (p->tls == TLS_ACTIVE || p->tls == TLS_STARTING) return 0 ;
  return p->o->require_tls || proxy_tls_available(p) ;
}

void *proxy_state (proxy const *p) { return p->state ; }

void proxy_session_begin (proxy *p)
{
  p->state = calloc(1, p->proto->state_size ? p->proto->state_size : 1) ;
  if (!p->state) strerr_diefsys(UST_EXIT_SYS, "out of memory") ;
  if (p->proto->start) p->proto->start(p) ;
}

void proxy_session_end (proxy *p)
{
  if (!p->state) return ;
  if (p->proto->finish) p->proto->finish(p) ;
  free(p->state) ;
  p->state = 0 ;
}

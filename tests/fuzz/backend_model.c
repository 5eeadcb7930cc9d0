/* backend_model.c: see backend_model.h. The part every protocol shares:
   feeding the models in the order things happened, lines and words by each
   variant's rule, and the check at an accepted STARTTLS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_model.h"

#define MODELS_MAX 8

static struct {
  bmodel m[MODELS_MAX] ;
  unsigned int n ;
  int on ;
  int trace ;                 /* BMODEL_TRACE in the environment: each model tells what it frames */
} bm ;

void bmodel_open (bmodel_protocol const *proto)
{
  bmodel_close() ;
  if (proto->n > MODELS_MAX) abort() ;
  bm.trace = !!getenv("BMODEL_TRACE") ;
  for (unsigned int i = 0 ; i < proto->n ; i++)
  {
    bmodel *m = bm.m + i ;
    memset(m, 0, sizeof(*m)) ;
    m->proto = proto ;
    m->name = proto->variants[i].name ;
    m->v = proto->variants[i].flags ;
    m->ehlo = -1 ;
    m->rwell = 1 ;
  }
  bm.n = proto->n ;
  bm.on = 1 ;
}

void bmodel_close (void)
{
  for (unsigned int i = 0 ; i < bm.n ; i++)
  {
    stralloc_free(&bm.m[i].in) ;
    stralloc_free(&bm.m[i].log) ;
  }
  bm.n = 0 ;
  bm.on = 0 ;
}

int bmodel_on (void) { return bm.on ; }

size_t bmodel_memory (void)
{
  size_t n = 0 ;
  for (unsigned int i = 0 ; i < bm.n ; i++) n += bm.m[i].in.a + bm.m[i].log.a ;
  return n ;
}

/* Frames what the model holds and the len new bytes at s. The bytes are
   framed where they are when nothing waits before them (the usual case: the
   proxy forwards whole lines); what is left is kept. */
static void run (bmodel *m, char const *s, size_t len)
{
  size_t n ;
  if (!s) s = "" ;  /* nothing new: a reply came */
  if (m->in.len)
  {
    if (len && !stralloc_catb(&m->in, s, len)) abort() ;
    n = m->proto->frame(m, m->in.s, m->in.len) ;
    memmove(m->in.s, m->in.s + n, m->in.len - n) ;
    m->in.len -= n ;
    return ;
  }
  n = m->proto->frame(m, s, len) ;
  if (n < len && !stralloc_catb(&m->in, s + n, len - n)) abort() ;
}

void bmodel_forwarded (char const *s, size_t len)
{
  if (!bm.on || !len) return ;
  for (unsigned int i = 0 ; i < bm.n ; i++) run(bm.m + i, s, len) ;
}

/* A reply may be what a blocked model waited for: it frames on at once. */
void bmodel_reply (char const *line, size_t len)
{
  if (!bm.on || !len) return ;
  for (unsigned int i = 0 ; i < bm.n ; i++)
  {
    bm.m[i].proto->reply(bm.m + i, line, len) ;
    run(bm.m + i, 0, 0) ;
  }
}

static int at_boundary (bmodel const *m)
{
  return !m->open && !m->in.len && m->proto->boundary(m) ;
}

static void fail (bmodel const *m, uint64_t commands, char const *why)
{
  fprintf(stderr, "backend model %s/%s: %s at the accepted STARTTLS: it framed %llu commands (the proxy %llu), "
    "state %s, %zu bytes unframed from offset %llu%s\n",
    m->proto->name, m->name, why, (unsigned long long)m->commands, (unsigned long long)commands,
    m->proto->state_name(m), m->in.len, (unsigned long long)m->off, m->open ? ", inside a command" : "") ;
  abort() ;
}

void bmodel_check (uint64_t commands)
{
  if (!bm.on) return ;
  if (bm.trace) fprintf(stderr, "bmodel %s: STARTTLS accepted after %llu commands\n", bm.m[0].proto->name, (unsigned long long)commands) ;
  for (unsigned int i = 0 ; i < bm.n ; i++)
  {
    bmodel const *m = bm.m + i ;
    if (!at_boundary(m)) fail(m, commands, "not at a command boundary") ;
    if (m->commands != commands) fail(m, commands, "not as many commands as the proxy") ;
    if (m->hash != bm.m[0].hash) fail(m, commands, "commands that begin elsewhere than the first model's") ;
  }
}

void bmodel_take (bmodel *m, size_t *pos, size_t n)
{
  *pos += n ;
  m->off += n ;
}

void bmodel_skip_lf (bmodel *m, char const *s, size_t len, size_t *pos)
{
  if (!m->cr || *pos >= len) return ;
  m->cr = 0 ;
  if (s[*pos] == '\n') bmodel_take(m, pos, 1) ;
}

void bmodel_begin (bmodel *m)
{
  if (m->open) return ;
  m->open = 1 ;
  m->hash = (m->hash ^ m->off) * 0x100000001b3ULL ;
  if (bm.trace) fprintf(stderr, "bmodel %s/%s: command %llu at %llu\n", m->proto->name, m->name, (unsigned long long)m->commands, (unsigned long long)m->off) ;
}

void bmodel_complete (bmodel *m)
{
  m->open = 0 ;
  m->commands++ ;
  if (bm.trace) fprintf(stderr, "bmodel %s/%s: command %llu complete at %llu\n", m->proto->name, m->name, (unsigned long long)m->commands - 1, (unsigned long long)m->off) ;
}

/* Where the line at s[start] ends by the model's rule, looking from
   s[from]: the index of its first terminator byte, with *tlen the
   terminator's length; len if not yet. */
static size_t line_end (bmodel const *m, char const *s, size_t len, size_t start, size_t from, size_t *tlen)
{
  size_t i = from ;
  switch (m->v & BM_EOL)
  {
    case BM_EOL_LF :
    {
      char const *lf = memchr(s + i, '\n', len - i) ;
      if (!lf) return len ;
      i = (size_t)(lf - s) ;
      *tlen = 1 ;
      if (i > start && s[i - 1] == '\r') { i-- ; *tlen = 2 ; }
      return i ;
    }
    case BM_EOL_CRLF :
      if (i > start) i-- ;  /* the CR of a CRLF cut where the last look stopped */
      for (;;)
      {
        char const *lf = memchr(s + i, '\n', len - i) ;
        if (!lf) return len ;
        i = (size_t)(lf - s) ;
        if (i > start && s[i - 1] == '\r') { *tlen = 2 ; return i - 1 ; }
        i++ ;
      }
    default :
      for (; i < len ; i++) if (s[i] == '\r' || s[i] == '\n') { *tlen = 1 ; return i ; }
      return len ;
  }
}

int bmodel_line (bmodel *m, char const *s, size_t len, size_t *pos, size_t cut, char const **line, size_t *clen)
{
  /* what an earlier look found no end in, if this is the same line */
  size_t from = *pos + (m->scan_at == m->off ? m->scanned : 0), t = 0, e ;
  if (from > len) from = len ;
  e = line_end(m, s, len, *pos, from, &t) ;
  if (cut && (e == len ? len - *pos >= cut : e + t - *pos > cut))
  {
    /* a server that reads cut bytes at most takes them as a line, and the
       rest as the next */
    *line = s + *pos ;
    *clen = cut ;
    bmodel_take(m, pos, cut) ;
    return 1 ;
  }
  if (e == len)
  {
    m->scanned = len - *pos ;
    m->scan_at = m->off ;
    return 0 ;
  }
  *line = s + *pos ;
  *clen = e - *pos ;
  if ((m->v & BM_EOL) == BM_EOL_CR && s[e] == '\r') m->cr = 1 ;
  bmodel_take(m, pos, e + t - *pos) ;
  return 1 ;
}

int bmodel_blank (char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' ; }

size_t bmodel_word (bmodel const *m, char const *line, size_t clen, size_t *i, char const **w)
{
  int blanks = !!(m->v & BM_BLANKS) ;
  size_t j, start ;
  if (blanks) while (*i < clen && bmodel_blank(line[*i])) ++*i ;
  start = *i ;
  for (j = start ; j < clen && !(blanks ? bmodel_blank(line[j]) : line[j] == ' ') ; j++) ;
  *w = line + start ;
  *i = j < clen && !blanks ? j + 1 : j ;
  return j - start ;
}

int bmodel_is (char const *w, size_t n, char const *word)
{
  return n == strlen(word) && !strncasecmp(w, word, n) ;
}

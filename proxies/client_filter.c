/* client_filter.c: what the client proxies change in the server's bytes
   inside TLS, so that the plaintext client is never offered a TLS it
   cannot have (RFC 3207 §4.2 and RFC 3501 §6.2.1 forbid the offer after
   TLS; a server that makes it anyway is not shown to the client).
   SMTP: the server sends nothing but replies, so every line is a reply
   line: a "250-STARTTLS" or "250 STARTTLS" line after the first of a reply
   is dropped (the line before it ends the reply when it was the last).
   IMAP: an untagged CAPABILITY response and a [CAPABILITY ...] response
   code lose STARTTLS and LOGINDISABLED; literals ({n} at the end of a
   line) pass untouched, and the rest of a line after one is never taken
   for the start of a response. Lines longer than -l pass untouched. */
#include <string.h>
#include <strings.h>
#include "client.h"

void cp_filter_init (cp_filter *f, int kind, size_t line_max)
{
  memset(f, 0, sizeof(*f)) ;
  f->kind = kind ;
  f->line_max = line_max ;
  f->bol = 1 ;
}

void cp_filter_free (cp_filter *f)
{
  stralloc_free(&f->line) ;
  stralloc_free(&f->held) ;
}

/* ---------------------------------------------------------------- SMTP */

int cp_smtp_starttls_line (char const *s, size_t n)
{
  size_t i = 12 ;
  if (n < 13 || memcmp(s, "250", 3) || (s[3] != '-' && s[3] != ' ') || strncasecmp(s + 4, "STARTTLS", 8)) return 0 ;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++ ;
  if (i < n && s[i] == '\r') i++ ;
  return i + 1 == n && s[i] == '\n' ;
}

static int smtp_continued (char const *s, size_t n)
{
  return n >= 4 && s[3] == '-' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' ;
}

static void smtp_line (cp_filter *f, char const *s, size_t n, stralloc *out)
{
  if (f->held.len)
  {
    /* a line after the first of its reply */
    if (cp_smtp_starttls_line(s, n))
    {
      f->dropped++ ;
      if (s[3] == ' ')
      {
        f->held.s[3] = ' ' ;  /* it ended the reply: the line before it does now */
        ust_catb(out, f->held.s, f->held.len) ;
        f->held.len = 0 ;
      }
      return ;
    }
    ust_catb(out, f->held.s, f->held.len) ;
    f->held.len = 0 ;
  }
  if (smtp_continued(s, n)) { f->held.len = 0 ; ust_catb(&f->held, s, n) ; }
  else ust_catb(out, s, n) ;
}

/* ---------------------------------------------------------------- IMAP */

/* 1: STARTTLS, 2: LOGINDISABLED, 0: another atom */
static int drop_cap (char const *s, size_t n)
{
  if (n == 8 && !strncasecmp(s, "STARTTLS", 8)) return 1 ;
  if (n == 13 && !strncasecmp(s, "LOGINDISABLED", 13)) return 2 ;
  return 0 ;
}

/* Copies [a, b) of s, SP-separated atoms each with the SP before it,
   leaving out the dropped ones; counts them in *dropped, and the
   STARTTLS ones in *starttls. *starttls NULL: STARTTLS alone is dropped. */
static void filter_atoms (unsigned int *dropped, unsigned int *starttls, char const *s, size_t a, size_t b, stralloc *out)
{
  while (a < b)
  {
    size_t e = a + 1 ;
    int what ;
    while (e < b && s[e] != ' ') e++ ;
    what = s[a] == ' ' ? drop_cap(s + a + 1, e - a - 1) : 0 ;
    if (what == 2 && !starttls) what = 0 ;
    if (what) { (*dropped)++ ; if (what == 1 && starttls) (*starttls)++ ; }
    else ust_catb(out, s + a, e - a) ;
    a = e ;
  }
}

/* i: where "CAPABILITY" may start; code: in a [CAPABILITY ...] response code */
static int imap_caps_at (unsigned int *dropped, unsigned int *starttls, char const *s, size_t n, size_t i, int code, stralloc *out)
{
  size_t e ;
  if (n - i < 10 || strncasecmp(s + i, "CAPABILITY", 10)) return 0 ;
  e = i + 10 ;
  if (e < n && s[e] != ' ' && s[e] != (code ? ']' : '\r') && s[e] != '\n') return 0 ;
  {
    size_t stop = e ;
    while (stop < n && s[stop] != '\r' && s[stop] != '\n' && (!code || s[stop] != ']')) stop++ ;
    if (code && (stop >= n || s[stop] != ']')) return 0 ;
    ust_catb(out, s, e) ;
    filter_atoms(dropped, starttls, s, e, stop, out) ;
    ust_catb(out, s + stop, n - stop) ;
  }
  return 1 ;
}

static size_t word_end (char const *s, size_t n, size_t i)
{
  while (i < n && s[i] != ' ' && s[i] != '\r' && s[i] != '\n') i++ ;
  return i ;
}

int cp_imap_response (char const *s, size_t n, stralloc *out, unsigned int *dropped, unsigned int *starttls)
{
  size_t t = word_end(s, n, 0), w, we ;
  if (!t || t >= n || s[t] != ' ') goto as_is ;
  w = t + 1 ;
  if (t == 1 && s[0] == '*' && imap_caps_at(dropped, starttls, s, n, w, 0, out)) return 1 ;
  we = word_end(s, n, w) ;
  if (we + 1 < n && s[we] == ' ' && s[we + 1] == '['
   && ((we - w == 2 && (!strncasecmp(s + w, "OK", 2) || !strncasecmp(s + w, "NO", 2)))
    || (we - w == 3 && (!strncasecmp(s + w, "BAD", 3) || !strncasecmp(s + w, "BYE", 3)))
    || (we - w == 7 && !strncasecmp(s + w, "PREAUTH", 7)))
   && imap_caps_at(dropped, starttls, s, n, we + 2, 1, out)) return 1 ;
 as_is:
  ust_catb(out, s, n) ;
  return 0 ;
}

/* The literal announced at the end of the line's last bytes s[0..n), if any. */
static int literal_at_end (char const *s, size_t n, uint64_t *v)
{
  size_t e = n, d ;
  uint64_t x = 0 ;
  if (e && s[e - 1] == '\n') e-- ;
  if (e && s[e - 1] == '\r') e-- ;
  if (!e || s[e - 1] != '}') return 0 ;
  e-- ;
  if (e && s[e - 1] == '+') e-- ;
  d = e ;
  while (d && s[d - 1] >= '0' && s[d - 1] <= '9') d-- ;
  if (d == e || !d || s[d - 1] != '{') return 0 ;
  for (; d < e ; d++)
  {
    unsigned int c = (unsigned int)(s[d] - '0') ;
    x = x > (UINT64_MAX - c) / 10 ? UINT64_MAX : x * 10 + c ;
  }
  *v = x ;
  return 1 ;
}

static void imap_tail (cp_filter *f, char const *s, size_t n)
{
  if (!n) return ;
  if (n >= sizeof(f->tail)) { memcpy(f->tail, s + n - sizeof(f->tail), sizeof(f->tail)) ; f->tlen = sizeof(f->tail) ; return ; }
  if (f->tlen + n > sizeof(f->tail))
  {
    size_t keep = sizeof(f->tail) - n ;
    memmove(f->tail, f->tail + f->tlen - keep, keep) ;
    f->tlen = keep ;
  }
  memcpy(f->tail + f->tlen, s, n) ;
  f->tlen += n ;
}

static void imap_line_ended (cp_filter *f, char const *s, size_t n)
{
  uint64_t v ;
  if (literal_at_end(s, n, &v)) { f->literal = v ; f->bol = 0 ; }
  else f->bol = 1 ;
}

/* ---------------------------------------------------------------- both */

static void line_done (cp_filter *f, stralloc *out)
{
  if (f->kind == CP_FILTER_SMTP) smtp_line(f, f->line.s, f->line.len, out) ;
  else
  {
    unsigned int starttls = 0 ;
    if (f->bol) cp_imap_response(f->line.s, f->line.len, out, &f->dropped, f->cleartext ? 0 : &starttls) ;
    else ust_catb(out, f->line.s, f->line.len) ;
    imap_line_ended(f, f->line.s, f->line.len) ;
  }
  f->line.len = 0 ;
}

void cp_filter_feed (cp_filter *f, char const *in, size_t len, stralloc *out)
{
  if (f->kind == CP_FILTER_NONE) { ust_catb(out, in, len) ; return ; }
  while (len)
  {
    char const *lf ;
    size_t k ;
    if (f->literal)
    {
      k = f->literal < len ? (size_t)f->literal : len ;
      ust_catb(out, in, k) ;
      f->literal -= k ; in += k ; len -= k ;
      continue ;
    }
    lf = memchr(in, '\n', len) ;
    k = lf ? (size_t)(lf - in) + 1 : len ;
    if (f->raw)
    {
      ust_catb(out, in, k) ;
      if (f->kind == CP_FILTER_IMAP) imap_tail(f, in, k) ;
      in += k ; len -= k ;
      if (lf)
      {
        f->raw = 0 ;
        if (f->kind == CP_FILTER_IMAP) imap_line_ended(f, f->tail, f->tlen) ;
      }
      continue ;
    }
    if (f->line.len + k > f->line_max)
    {
      /* too long to be a capability line: it and the rest of it pass as they are */
      if (f->held.len) { ust_catb(out, f->held.s, f->held.len) ; f->held.len = 0 ; }
      ust_catb(out, f->line.s, f->line.len) ;
      f->tlen = 0 ;
      imap_tail(f, f->line.s, f->line.len) ;
      f->line.len = 0 ;
      f->raw = 1 ;
      continue ;
    }
    ust_catb(&f->line, in, k) ;
    in += k ; len -= k ;
    if (lf) line_done(f, out) ;
  }
}

void cp_filter_end (cp_filter *f, stralloc *out)
{
  if (f->held.len) { ust_catb(out, f->held.s, f->held.len) ; f->held.len = 0 ; }
  if (f->line.len) { ust_catb(out, f->line.s, f->line.len) ; f->line.len = 0 ; }
}

/* client_io.c: the client proxies' line reader over the server, before TLS
   and for SMTP's EHLO inside it: bounded lines, a deadline per reply, and
   the check that nothing follows the STARTTLS success reply. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "client.h"
#include "exitcodes.h"
#include "ust.h"

static long fd_fill (void *ctx, int fd, char *buf, size_t max, unsigned int ms)
{
  struct pollfd x = { .fd = fd, .events = POLLIN } ;
  struct timespec t0 ;
  (void)ctx ;
  ust_ms_start(&t0) ;
  for (;;)
  {
    long left = ust_ms_left(&t0, ms) ;
    ssize_t r ;
    int k ;
    if (left <= 0) return (errno = ETIMEDOUT, -1) ;
    k = poll(&x, 1, left > 0x7fffffffL ? 0x7fffffff : (int)left) ;
    if (k < 0) { if (errno == EINTR) continue ; return -1 ; }
    if (!k) return (errno = ETIMEDOUT, -1) ;
    r = read(fd, buf, max) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    return (long)r ;
  }
}

static int fd_put (void *ctx, int fd, char const *s, size_t len)
{
  (void)ctx ;
  while (len)
  {
    ssize_t w = write(fd, s, len) ;
    if (w < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) { struct pollfd x = { .fd = fd, .events = POLLOUT } ; if (poll(&x, 1, 10000) <= 0) return (errno = ETIMEDOUT, -1) ; continue ; }
      return -1 ;
    }
    s += w ; len -= (size_t)w ;
  }
  return 0 ;
}

static int fd_ready (void *ctx, int fd)
{
  struct pollfd x = { .fd = fd, .events = POLLIN } ;
  (void)ctx ;
  return poll(&x, 1, 0) > 0 ;
}

void cp_reader_fd (cp_reader *r, int fd, size_t line_max, unsigned int step_ms)
{
  r->start = r->end = 0 ;
  r->fd = fd ;
  r->line_max = line_max < CP_BUF ? line_max : CP_BUF ;
  r->step_ms = step_ms ;
  r->fill = &fd_fill ;
  r->put = &fd_put ;
  r->ready = &fd_ready ;
  r->ctx = 0 ;
  ust_ms_start(&r->t0) ;
}

cp_verdict cp_line (cp_dialog *d, char const **line, size_t *len)
{
  cp_reader *r = &d->r ;
  size_t scanned = 0 ;
  for (;;)
  {
    char const *lf = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned) ;
    long n ;
    if (lf)
    {
      size_t l = (size_t)(lf - (r->buf + r->start)) + 1 ;
      if (l > r->line_max) { cp_why(d, "a line longer than -l", 0, 0) ; return CP_BAD_SERVER ; }
      if (memchr(r->buf + r->start, 0, l)) { cp_why(d, "a line with a NUL byte", 0, 0) ; return CP_BAD_SERVER ; }
      *line = r->buf + r->start ;
      *len = l ;
      r->start += l ;
      return CP_OK ;
    }
    scanned = r->end - r->start ;
    if (scanned >= r->line_max) { cp_why(d, "a line longer than -l", 0, 0) ; return CP_BAD_SERVER ; }
    if (r->start && r->end == sizeof(r->buf))
    {
      memmove(r->buf, r->buf + r->start, scanned) ;
      r->end = scanned ; r->start = 0 ;
    }
    {
      long left = ust_ms_left(&r->t0, r->step_ms) ;
      n = left <= 0 ? (errno = ETIMEDOUT, -1) : r->fill(r->ctx, r->fd, r->buf + r->end, sizeof(r->buf) - r->end, (unsigned int)left) ;
    }
    if (n < 0)
    {
      int e = errno ;
      if (e == ETIMEDOUT) { cp_why(d, "no reply within -w", 0, 0) ; return CP_TIMEOUT ; }
      cp_why(d, "read: ", strerror(e), strlen(strerror(e))) ;
      return e == ECONNRESET || e == EPIPE ? CP_GONE : CP_IOERR ;  /* the server's doing, not ours */
    }
    if (!n) { cp_why(d, scanned ? "EOF in the middle of a line" : "the server closed the connection", 0, 0) ; return CP_GONE ; }
    r->end += (size_t)n ;
  }
}

cp_verdict cp_send (cp_dialog *d, char const *s)
{
  ust_ms_start(&d->r.t0) ;  /* the reply is due within -w from now */
  if (d->r.put(d->r.ctx, d->wfd, s, strlen(s)) < 0)
  {
    int e = errno ;
    cp_why(d, "write: ", strerror(e), strlen(strerror(e))) ;
    return e == EPIPE || e == ECONNRESET ? CP_GONE : CP_IOERR ;
  }
  return CP_OK ;
}

cp_verdict cp_nothing_after (cp_dialog *d)
{
  cp_reader *r = &d->r ;
  if (r->end > r->start || r->ready(r->ctx, r->fd))
  {
    cp_why(d, "bytes after the success reply, before the handshake (a response injection): none was read as a reply or given to the client", 0, 0) ;
    return CP_INJECTION ;
  }
  return CP_OK ;
}

void cp_why (cp_dialog *d, char const *a, char const *b, size_t blen)
{
  size_t n = strlen(a), i ;
  if (n >= sizeof(d->why)) n = sizeof(d->why) - 1 ;
  memcpy(d->why, a, n) ;
  for (i = 0 ; b && i < blen && n + 1 < sizeof(d->why) ; i++)
  {
    unsigned char c = (unsigned char)b[i] ;
    if (c == '\r' || c == '\n') break ;
    d->why[n++] = c < 0x20 || c > 0x7e ? '?' : (char)c ;
  }
  d->why[n] = 0 ;
}

void cp_why_before (cp_dialog *d, char const *prefix)
{
  char was[sizeof(d->why)] ;
  memcpy(was, d->why, sizeof(was)) ;
  cp_why(d, prefix, was, strlen(was)) ;
}

int cp_casestart (char const *s, size_t len, char const *prefix)
{
  size_t n = strlen(prefix) ;
  return len >= n && !strncasecmp(s, prefix, n) ;
}

void cp_clean_line (stralloc *out, char const *s, size_t n)
{
  size_t i ;
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n-- ;
  for (i = 0 ; i < n ; i++)
  {
    char c = s[i] < 0x20 || s[i] > 0x7e ? '?' : s[i] ;
    ust_catb(out, &c, 1) ;
  }
  ust_catb(out, "\r\n", 2) ;
}

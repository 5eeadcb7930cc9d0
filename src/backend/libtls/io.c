/* io.c: the non-blocking steps of a libtls session, over our own read/write callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libtls-internal.h"

/* Hands libtls up to len bytes of src[*pos, end). */
static ssize_t give (char const *src, size_t *pos, size_t end, void *buf, size_t len)
{
  size_t n = end - *pos ;
  if (n > len) n = len ;
  memcpy(buf, src + *pos, n) ;
  *pos += n ;
  return (ssize_t)n ;
}

ssize_t libtls_read_cb (struct tls *ctx, void *buf, size_t len, void *arg)
{
  tlsb *s = arg ;
  ssize_t r ;
  int ahead ;
  (void)ctx ;
  if (s->hello_pos < s->hello_len) return give(s->hello, &s->hello_pos, s->hello_len, buf, len) ;
  if (s->rpos < s->rlen) return give(s->rahead, &s->rpos, s->rlen, buf, len) ;
  /* a big read goes straight to libtls; a small one fills the read-ahead */
  if (len < LIBTLS_READAHEAD && !s->rahead) s->rahead = malloc(LIBTLS_READAHEAD) ;
  ahead = len < LIBTLS_READAHEAD && s->rahead ;
  do r = read(s->netr, ahead ? s->rahead : buf, ahead ? LIBTLS_READAHEAD : len) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0 && errno == EAGAIN) return TLS_WANT_POLLIN ;
  if (!r)
  {
    /* EOF is not shown to OpenSSL: it would mark the connection failed and
       refuse our remaining writes, while a half-closed peer may still read.
       tlsb_read reports it instead. */
    s->raw_eof = 1 ;
    return TLS_WANT_POLLIN ;
  }
  if (r < 0 || !ahead) return r ;
  s->rpos = 0 ;
  s->rlen = (size_t)r ;
  return give(s->rahead, &s->rpos, s->rlen, buf, len) ;
}

ssize_t libtls_write_cb (struct tls *ctx, void const *buf, size_t len, void *arg)
{
  tlsb *s = arg ;
  ssize_t r ;
  (void)ctx ;
  do r = write(s->netw, buf, len) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0 && errno == EAGAIN) return TLS_WANT_POLLOUT ;
  return r ;
}

static tlsb_status want (tlsb *s, ssize_t r, char const *what)
{
  if (r == TLS_WANT_POLLIN) return TLSB_WANT_READ ;
  if (r == TLS_WANT_POLLOUT) return TLSB_WANT_WRITE ;
  libtls_seterr(s, what, tls_error(s->conn)) ;
  return TLSB_ERROR ;
}

/* Server: reads the first record, picks the keypair for its SNI name, and
   gives the connection to the context configured for that keypair. */
static tlsb_status accept_conn (tlsb *s)
{
  char name[256] ;
  int found, k ;
  for (;;)
  {
    ssize_t r ;
    found = clienthello_sni(s->hello, s->hello_len, name, sizeof(name)) ;
    if (found != -2) break ;
    if (s->hello_len >= sizeof(s->hello)) { found = -1 ; break ; }
    r = read(s->netr, s->hello + s->hello_len, (found == -2 && s->hello_len < 5 ? 5 : sizeof(s->hello)) - s->hello_len) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && errno == EAGAIN) return TLSB_WANT_READ ;
    if (r < 0) { libtls_seterr(s, "read", strerror(errno)) ; return TLSB_ERROR ; }
    if (!r) { libtls_seterr(s, "TLS handshake", "the client closed the connection") ; return TLSB_ERROR ; }
    s->hello_len += (size_t)r ;
  }
  /* ALPACA (RFC 7301 3.2): libtls would carry on without ALPN; refuse
     with the fatal alert the RFC names, before any certificate is shown. */
  if (found != -1 && clienthello_alpn_foreign(s->hello, s->hello_len) == 1)
  {
    static char const alert[7] = { 21, 3, 1, 0, 2, 2, 120 } ;  /* alert record: fatal, no_application_protocol */
    ssize_t w ;
    do w = write(s->netw, alert, sizeof(alert)) ;
    while (w < 0 && errno == EINTR) ;
    libtls_seterr(s, "ALPN", "the client offers only protocols other than mail (no_application_protocol)") ;
    return TLSB_ERROR ;
  }
  /* Not a parsable ClientHello: the default context will refuse it properly. */
  k = tlsconf_select_keypair(s->conf, found == 1 ? name : 0) ;
  if (k < 0)
  {
    char clean[sizeof(name)] = "(none)" ;
    if (found == 1) libtls_copy_clean(clean, sizeof(clean), name, 0x21) ;
    libtls_seterr(s, "no certificate for the requested server name", clean) ;
    return TLSB_ERROR ;
  }
  if (tls_accept_cbs(s->ctx[k], &s->conn, libtls_read_cb, libtls_write_cb, s) < 0)
  {
    libtls_seterr(s, "tls_accept", tls_error(s->ctx[k])) ;
    return TLSB_ERROR ;
  }
  return TLSB_DONE ;
}

/* Calls a libtls step again while it says "want read" but took bytes from
   the read-ahead buffer and more wait there. libtls turns OpenSSL's
   AUTO_RETRY off: after a record that holds no data for the caller (a TLS
   1.3 ticket, a key update) it stops and says "want read", and the next
   records, already in our buffer, are where no poll of the socket sees them. */
#define AHEAD_RETRY(s, r, call) do { \
  size_t pos_, len_ ; \
  do { pos_ = (s)->rpos ; len_ = (s)->rlen ; r = (call) ; } \
  while (r == TLS_WANT_POLLIN && (s)->rpos < (s)->rlen && ((s)->rpos != pos_ || (s)->rlen != len_)) ; \
} while (0)

tlsb_status tlsb_handshake (tlsb *s)
{
  int r ;
  if (!s->conn)
  {
    tlsb_status st = accept_conn(s) ;
    if (st != TLSB_DONE) return st ;
  }
  AHEAD_RETRY(s, r, tls_handshake(s->conn)) ;
  if (!r)
  {
    if (s->conf->role == TLSCONF_CLIENT && !s->handshake_done) libtls_client_session_done(s) ;
    s->handshake_done = 1 ;
    return TLSB_DONE ;
  }
  if (s->raw_eof && r != TLS_WANT_POLLOUT) { libtls_seterr(s, "TLS handshake", "the peer closed the connection") ; return TLSB_ERROR ; }
  return want(s, r, "TLS handshake") ;
}

tlsb_status tlsb_read (tlsb *s, char *buf, size_t len, size_t *got)
{
  ssize_t r ;
  AHEAD_RETRY(s, r, tls_read(s->conn, buf, len)) ;
  *got = 0 ;
  if (r > 0) { *got = (size_t)r ; return TLSB_DONE ; }
  if (!r) return TLSB_EOF ;  /* close_notify: the read callback never reports EOF to libtls */
  if (r == TLS_WANT_POLLIN && s->raw_eof) return TLSB_EOF_UNCLEAN ;
  return want(s, r, "TLS read") ;
}

tlsb_status tlsb_write (tlsb *s, char const *buf, size_t len, size_t *put)
{
  ssize_t r ;
  AHEAD_RETRY(s, r, tls_write(s->conn, buf, len)) ;
  *put = 0 ;
  if (r > 0) { *put = (size_t)r ; return TLSB_DONE ; }
  return want(s, r, "TLS write") ;
}

/* libtls writes a record out in full (or says WANT) before returning. */
tlsb_status tlsb_flush (tlsb *s)
{
  (void)s ;
  return TLSB_DONE ;
}

int tlsb_pending_output (tlsb const *s)
{
  (void)s ;
  return 0 ;
}

tlsb_status tlsb_close_notify (tlsb *s)
{
  int r ;
  if (s->closed_notify) return TLSB_DONE ;
  AHEAD_RETRY(s, r, tls_close(s->conn)) ;
  if (!r) { s->closed_notify = 1 ; return TLSB_DONE ; }
  return want(s, r, "TLS close") ;
}

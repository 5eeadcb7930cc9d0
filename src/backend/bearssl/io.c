/* io.c: the non-blocking steps of a session: handshake, read, write, flush, close_notify, pending output. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "bearssl-internal.h"

/* What one attempt at moving records between the engine and the network did. */
typedef enum net_result_e {
  NET_DONE,   /* moved bytes, or nothing was asked for */
  NET_AGAIN,  /* the fd would block */
  NET_EOF,    /* read: the peer closed the connection */
  NET_HELD,   /* read: the next record is an alert, held back (see recv_records) */
  NET_ERROR   /* s->err is set */
} net_result ;

/* The content type of an alert record (RFC 5246, 6.2.1), in the clear in its header. */
#define RECORD_ALERT 21

/* Writes records the engine has ready until none are left or the fd would block. */
static net_result send_records (tlsb *s)
{
  for (;;)
  {
    size_t len ;
    unsigned char *buf = br_ssl_engine_sendrec_buf(s->eng, &len) ;
    ssize_t w ;
    if (!buf) return NET_DONE ;
    if (s->write_failed) return NET_ERROR ;
    w = write(s->netw, buf, len) ;
    if (w > 0) { br_ssl_engine_sendrec_ack(s->eng, (size_t)w) ; continue ; }
    if (w < 0 && errno == EINTR) continue ;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return NET_AGAIN ;
    s->write_failed = 1 ;
    bsb_error(s, "write to the network: ", w < 0 ? strerror(errno) : "nothing written", (char const *)0) ;
    return NET_ERROR ;
  }
}

/* Reads the network once, as much as comes, after the bytes rahead holds. */
static net_result fill (tlsb *s)
{
  ssize_t r ;
  if (s->rpos == s->rlen) s->rpos = s->rlen = 0 ;
  else if (s->rpos)
  {
    /* a record header cut at the end of the buffer: its start moves to the front */
    memmove(s->rahead, s->rahead + s->rpos, s->rlen - s->rpos) ;
    s->rlen -= s->rpos ;
    s->rpos = 0 ;
  }
  for (;;)
  {
    r = read(s->netr, s->rahead + s->rlen, BSB_READAHEAD - s->rlen) ;
    if (r > 0) break ;
    if (!r) return NET_EOF ;
    if (errno == EINTR) continue ;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return NET_AGAIN ;
    bsb_error(s, "read from the network: ", strerror(errno), (char const *)0) ;
    return NET_ERROR ;
  }
  s->rlen += (size_t)r ;
  return NET_DONE ;
}

/* Gives the engine what it asks for from the read-ahead buffer, reading the
   network when that buffer lacks it. BearSSL asks for a record's 5-byte
   header, then for its body, never past the record: a header goes over
   whole, so that we know each record's content type before BearSSL does.
   That matters for alerts: when BearSSL (0.6, ssl_hs_common.t0, wait-co and
   do-close) processes a close_notify, it sends its own at once and closes
   the session, and it never lets the application send again; under TLS 1.2
   that is the rule (RFC 5246, 7.2.1), but a client that sends its last
   commands and close_notify together (gnutls-cli at its stdin EOF, scripts,
   monitoring checks) would then lose every reply not yet written. So once
   the handshake is done, and until we close ourselves, an alert record is
   held back here: tlsb_read reports the end of the peer's data, writing
   goes on, and tlsb_close_notify sends our alert later. The alert is still
   encrypted: a fatal one cannot be told from close_notify, and ends the
   peer's data the same way (the peer, having sent it, is gone anyway). */
static net_result recv_records (tlsb *s)
{
  size_t len, n ;
  unsigned char *buf = br_ssl_engine_recvrec_buf(s->eng, &len) ;
  if (!buf) return NET_DONE ;
  while (s->rlen - s->rpos < (s->in_left ? 1 : 5))
  {
    net_result r = fill(s) ;
    if (r != NET_DONE) return r ;
  }
  if (!s->in_left)
  {
    unsigned char const *header = s->rahead + s->rpos ;
    if (header[0] == RECORD_ALERT && s->handshake_done && !s->close_sent) return NET_HELD ;
    s->in_left = 5 + ((size_t)header[3] << 8 | header[4]) ;
  }
  n = s->rlen - s->rpos ;
  if (n > len) n = len ;
  if (n > s->in_left) n = s->in_left ;
  memcpy(buf, s->rahead + s->rpos, n) ;
  s->rpos += n ;
  s->in_left -= n ;
  br_ssl_engine_recvrec_ack(s->eng, n) ;
  return NET_DONE ;
}

static tlsb_status engine_failed (tlsb *s)
{
  bsb_error_engine(s) ;
  return TLSB_ERROR ;
}

/* A resumed session skipped the choice of certificate: the server name the
   client sent this time must select the certificate the session was made
   with (RFC 6066 3 would have a full handshake instead; BearSSL decides
   before it reads the name, so the session is refused). */
static int resumed_ok (tlsb *s)
{
  char const *name = br_ssl_engine_get_server_name(s->eng) ;
  /* the same certificate may be listed under several names (and as the default) */
  if (!bsb_cache_same_certificate(&s->cache, tlsconf_select_keypair(&s->conf, name), s->cache.keypair))
  {
    char clean[256] ;
    bsb_clean_name(clean, sizeof(clean), name[0] ? name : "(none)") ;
    bsb_error(s, "a resumed session names another server (", clean, ") than the certificate it was made with: refused", (char const *)0) ;
    bsb_cache_forget(&s->cache) ;  /* the client's next attempt gets a full handshake */
    return 0 ;
  }
  s->resumed = 1 ;
  s->policy.chosen = s->cache.keypair ;
  return 1 ;
}

tlsb_status tlsb_handshake (tlsb *s)
{
  for (;;)
  {
    unsigned int st = br_ssl_engine_current_state(s->eng) ;
    if (st & BR_SSL_CLOSED)
    {
      if (br_ssl_engine_last_error(s->eng) != BR_ERR_OK) return engine_failed(s) ;
      bsb_error(s, "the peer closed the connection during the handshake", (char const *)0) ;
      return TLSB_ERROR ;
    }
    /* Application data may flow once the handshake is over. */
    if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
    {
      if (s->conf.role == TLSCONF_SERVER && bsb_cache_resumed(&s->cache, s->eng) && !resumed_ok(s)) return TLSB_ERROR ;
      if (s->conf.role == TLSCONF_CLIENT && s->sfile.fd >= 0 && !s->handshake_done) bsb_client_session_done(s) ;
      /* the files of other sessions' secrets are not kept open for the hours a session may last */
      bsb_cache_close(&s->cache) ;
      sessionfile_close(&s->sfile) ;
      s->handshake_done = 1 ;
      return TLSB_DONE ;
    }
    if (st & BR_SSL_SENDREC)
    {
      net_result r = send_records(s) ;
      if (r == NET_AGAIN) return TLSB_WANT_WRITE ;
      if (r != NET_DONE) return TLSB_ERROR ;
      continue ;
    }
    if (st & BR_SSL_RECVREC)
    {
      net_result r = recv_records(s) ;
      if (r == NET_AGAIN) return TLSB_WANT_READ ;
      if (r == NET_EOF) bsb_error(s, "the peer closed the connection during the handshake", (char const *)0) ;
      if (r != NET_DONE) return TLSB_ERROR ;
      continue ;
    }
    bsb_error(s, "the TLS engine neither sends nor receives during the handshake", (char const *)0) ;
    return TLSB_ERROR ;
  }
}

tlsb_status tlsb_read (tlsb *s, char *buf, size_t len, size_t *got)
{
  *got = 0 ;
  for (;;)
  {
    unsigned int st = br_ssl_engine_current_state(s->eng) ;
    if (st & BR_SSL_CLOSED)
    {
      /* a clean closure: the peer's close_notify (and ours) went through */
      if (br_ssl_engine_last_error(s->eng) == BR_ERR_OK) return TLSB_EOF ;
      return engine_failed(s) ;
    }
    if (st & BR_SSL_RECVAPP)
    {
      size_t avail ;
      unsigned char *data = br_ssl_engine_recvapp_buf(s->eng, &avail) ;
      size_t n = avail < len ? avail : len ;
      memcpy(buf, data, n) ;
      br_ssl_engine_recvapp_ack(s->eng, n) ;
      *got = n ;
      return TLSB_DONE ;
    }
    if (st & BR_SSL_SENDREC)
    {
      net_result r = send_records(s) ;
      if (r == NET_ERROR)
      {
        /* Once the peer's close_notify is in, BearSSL stops receiving and
           queues its own close_notify; a peer that closed its socket right
           after its alert refuses that reply, but its data ended cleanly. */
        if (s->handshake_done && !(st & (BR_SSL_RECVREC | BR_SSL_SENDAPP))) return TLSB_EOF ;
        return TLSB_ERROR ;
      }
      if (r == NET_DONE) continue ;
      /* the records wait for the network: reading can still progress */
      if (!(st & BR_SSL_RECVREC)) return TLSB_WANT_WRITE ;
    }
    if (st & BR_SSL_RECVREC)
    {
      net_result r = recv_records(s) ;
      if (r == NET_DONE) continue ;
      if (r == NET_AGAIN) return TLSB_WANT_READ ;
      if (r == NET_HELD) return TLSB_EOF ;  /* the peer is closing; we may still send */
      if (r == NET_EOF)
      {
        if (s->handshake_done) return TLSB_EOF_UNCLEAN ;
        bsb_error(s, "the peer closed the connection during the handshake", (char const *)0) ;
      }
      return TLSB_ERROR ;
    }
    bsb_error(s, "the TLS engine cannot receive data", (char const *)0) ;
    return TLSB_ERROR ;
  }
}

tlsb_status tlsb_write (tlsb *s, char const *buf, size_t len, size_t *put)
{
  *put = 0 ;
  for (;;)
  {
    unsigned int st = br_ssl_engine_current_state(s->eng) ;
    if (st & BR_SSL_CLOSED)
    {
      if (br_ssl_engine_last_error(s->eng) != BR_ERR_OK) return engine_failed(s) ;
      bsb_error(s, "the connection is closed", (char const *)0) ;
      return TLSB_ERROR ;
    }
    if (st & BR_SSL_SENDAPP)
    {
      size_t room ;
      unsigned char *dst = br_ssl_engine_sendapp_buf(s->eng, &room) ;
      size_t n = room < len ? room : len ;
      memcpy(dst, buf, n) ;
      br_ssl_engine_sendapp_ack(s->eng, n) ;
      br_ssl_engine_flush(s->eng, 0) ;
      *put = n ;
      /* the record may stay pending: tlsb_pending_output tells, tlsb_flush pushes */
      return send_records(s) == NET_ERROR ? TLSB_ERROR : TLSB_DONE ;
    }
    if (st & BR_SSL_SENDREC)
    {
      net_result r = send_records(s) ;
      if (r == NET_AGAIN) return TLSB_WANT_WRITE ;
      if (r != NET_DONE) return TLSB_ERROR ;
      continue ;
    }
    if (s->close_sent)
    {
      bsb_error(s, "write after close_notify", (char const *)0) ;
      return TLSB_ERROR ;
    }
    /* Receiving but not sending: a handshake message is being processed. */
    if (st & BR_SSL_RECVREC) return TLSB_WANT_READ ;
    bsb_error(s, "the peer closed the connection", (char const *)0) ;
    return TLSB_ERROR ;
  }
}

tlsb_status tlsb_flush (tlsb *s)
{
  for (;;)
  {
    unsigned int st = br_ssl_engine_current_state(s->eng) ;
    net_result r ;
    if (st & BR_SSL_CLOSED)
      return br_ssl_engine_last_error(s->eng) == BR_ERR_OK ? TLSB_DONE : engine_failed(s) ;
    if (!(st & BR_SSL_SENDREC)) return TLSB_DONE ;
    r = send_records(s) ;
    if (r == NET_AGAIN) return TLSB_WANT_WRITE ;
    if (r != NET_DONE) return TLSB_ERROR ;
  }
}

int tlsb_pending_output (tlsb const *s)
{
  if (s->write_failed) return 0 ;  /* it will never go out */
  return (br_ssl_engine_current_state(s->eng) & BR_SSL_SENDREC) != 0 ;
}

tlsb_status tlsb_close_notify (tlsb *s)
{
  if (!s->close_sent)
  {
    s->close_sent = 1 ;
    /* queues close_notify after any pending record; BearSSL then discards
       incoming application data until the peer's close_notify (TLS 1.2
       closes both directions), and an alert recv_records held back since
       the peer closed goes to BearSSL from now on */
    br_ssl_engine_close(s->eng) ;
  }
  /* the alert is on the wire once every record is */
  return tlsb_flush(s) ;
}

/* engine_run.c: the one event loop of both engines: handshake, then full-duplex relay, with deadlines. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "engine.h"
#include "exitcodes.h"
#include "tlsinfo.h"
#include "ust.h"

/* As big as the bulk pipe: one write fills it and wakes the reader once,
   where 64 KiB took four (about 10% more throughput in make bench). Pages
   are only touched when a transfer uses them: idle sessions do not pay. */
#define RELAY_BUFSIZE (256 * 1024)
/* A session that has moved this much one way is a bulk transfer: its pipe
   to or from the application grows to PIPE_BULK_SIZE, so that both sides
   of the pipe work at once (a 64 KiB pipe makes them take turns: about a
   third of the throughput). Only then, because the kernel counts every
   pipe's size against its owner's limit (fs/pipe-user-pages-soft) and
   thousands of idle sessions must not use it up. */
#define PIPE_BULK_AFTER (1024 * 1024)
#define PIPE_BULK_SIZE (256 * 1024)

/* One direction's plaintext: bytes [pos, len) are waiting to move on. */
typedef struct chunk_s {
  char data[RELAY_BUFSIZE] ;
  size_t pos ;
  size_t len ;
} chunk ;

static chunk to_net ;   /* read from the application, to encrypt */
static chunk to_app ;   /* decrypted, to write to the application */

typedef struct relay_s {
  tlsb *s ;
  engine_opts const *o ;
  int appr, appw, netr, netw ;
  int app_eof ;          /* the application closed its side: nothing more to encrypt */
  int net_eof ;          /* the peer's data has ended */
  int net_eof_clean ;    /* ... with close_notify */
  int app_gone ;         /* the application no longer reads: decrypted data is dropped */
  int net_closed ;       /* our write side of the network is closed (close_notify or half-close) */
  tlsb_status rwant ;    /* what the last tlsb_read waits for, or TLSB_DONE */
  tlsb_status wwant ;    /* what the last tlsb_write/flush/close waits for, or TLSB_DONE */
  int moved ;            /* bytes moved in this round: resets the idle deadline */
  uint64_t to_app_total, to_net_total ;  /* bytes moved each way, to spot bulk transfers */
  int appw_grown, appr_grown ;
  char first ;           /* who ended its side first: 'a' the application, 'p' the peer, 0 none yet */
  char const *why ;      /* how the relay ended, for the end-of-session line */
} relay ;

/* Grows a pipe for a bulk transfer, once; a refusal (limits) changes nothing. */
static void grow_pipe (int fd, int *done)
{
  if (*done) return ;
  *done = 1 ;
  fcntl(fd, F_SETPIPE_SZ, PIPE_BULK_SIZE) ;
}

static void set_nonblocking (int fd)
{
  int flags = fcntl(fd, F_GETFL) ;
  if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags | O_NONBLOCK) ;
}

/* TLS records are written whole and replies must not wait for the peer's
   delayed ACK: Nagle only adds latency here. Not a socket: nothing to do. */
static void set_nodelay (int fd)
{
  int one = 1 ;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ;
}

static int fail_tls (relay *r, char const *what)
{
  strerr_warn(PROG, ": fatal: ", what, ": ", tlsb_errstr(r->s)) ;
  return UST_EXIT_TLS ;
}

/* Writes the info block to the -d descriptor and closes it. The reader may be slow: bounded wait. */
static void notify (engine_opts const *o, tlsinfo const *info)
{
  char buf[TLSINFO_BLOCK_MAX] ;
  size_t len = tlsinfo_block_make(info, buf, sizeof(buf)), pos = 0 ;
  while (pos < len)
  {
    ssize_t w = write(o->notif, buf + pos, len - pos) ;
    if (w > 0) { pos += (size_t)w ; continue ; }
    if (w < 0 && errno == EINTR) continue ;
    if (w < 0 && errno == EAGAIN)
    {
      iopause_fd x = { .fd = o->notif, .events = IOPAUSE_WRITE } ;
      tain deadline ;
      tain_now_g() ;
      tain_addsec_g(&deadline, 10) ;
      if (iopause_g(&x, 1, &deadline) > 0) continue ;
    }
    break ;  /* the reader left: nothing to tell */
  }
  close(o->notif) ;
}

/* -v 2: the handshake is done (the session may last for hours). */
static void log_established (engine_opts const *o, tlsinfo const *info, int resumed)
{
  char const *ip = getenv("TCPREMOTEIP") ;
  if (o->verbosity < 2) return ;
  strerr_warn(PROG, ": info: tls established", ip ? " with " : "", ip ? ip : "",
    ": ", info->protocol[0] ? info->protocol : "?", " ", info->cipher[0] ? info->cipher : "?",
    info->sni[0] ? " sni=" : "", info->sni,
    info->peer_cert_hash[0] ? " peer=" : "", info->peer_cert_hash, resumed ? " resumed" : "") ;
}

/* -v 1: the one line of the session, at its real end, whoever ended it:
   what TLS it had (none if the handshake failed), how it ended, the bytes
   moved and the exit code. */
static void log_end (engine_opts const *o, tlsinfo const *info, relay const *r, int e)
{
  char const *ip = getenv("TCPREMOTEIP") ;
  char in[UINT64_FMT], out[UINT64_FMT], code[UINT_FMT] ;
  if (o->verbosity < 1) return ;
  in[uint64_fmt(in, r->to_app_total)] = 0 ;
  out[uint64_fmt(out, r->to_net_total)] = 0 ;
  code[uint_fmt(code, (unsigned int)e)] = 0 ;
  if (!info)
  {
    strerr_warn(PROG, ": info: ", ip ? ip : "-", ": session ended: no TLS session (", r->why, "); exit code ", code) ;
    return ;
  }
  strerr_warn(PROG, ": info: ", ip ? ip : "-", ": session ended: tls ",
    info->protocol[0] ? info->protocol : "?", " ", info->cipher[0] ? info->cipher : "?",
    info->sni[0] ? " sni=" : "", info->sni, info->peer_cert_hash[0] ? " peer=" : "", info->peer_cert_hash,
    tlsb_resumed(r->s) ? " resumed" : "", ": ", r->why, "; bytes in ", in, ", out ", out, e ? "; exit code " : "", e ? code : "") ;
}

/* Pulls decrypted data into to_app. */
static int pump_from_net (relay *r)
{
  while (!r->net_eof && to_app.len < sizeof(to_app.data))
  {
    size_t got = 0 ;
    tlsb_status st = tlsb_read(r->s, to_app.data + to_app.len, sizeof(to_app.data) - to_app.len, &got) ;
    r->rwant = TLSB_DONE ;
    switch (st)
    {
      case TLSB_DONE :
        r->moved = 1 ;
        if (r->app_gone) to_app.pos = to_app.len = 0 ;  /* nobody to give it to */
        else to_app.len += got ;
        break ;
      case TLSB_WANT_READ :
      case TLSB_WANT_WRITE : r->rwant = st ; return 0 ;
      case TLSB_EOF_UNCLEAN :
        if (r->o->strict_eof)
        {
          strerr_warn(PROG, ": fatal: ", "peer closed the connection without close_notify") ;
          return UST_EXIT_TLS ;
        }
        r->net_eof = 1 ; r->moved = 1 ;
        break ;
      case TLSB_EOF : r->net_eof = r->net_eof_clean = 1 ; r->moved = 1 ; break ;
      default :
        if (r->app_eof && r->net_closed) { r->net_eof = 1 ; break ; }  /* peer reset after we were done */
        return fail_tls(r, "TLS read") ;
    }
  }
  return 0 ;
}

/* Delivers to_app to the application; closes appw once the peer's data is all delivered. */
static int pump_to_app (relay *r)
{
  while (to_app.pos < to_app.len && r->appw >= 0)
  {
    ssize_t w = write(r->appw, to_app.data + to_app.pos, to_app.len - to_app.pos) ;
    if (w < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN)
      {
        if (r->to_app_total >= PIPE_BULK_AFTER) grow_pipe(r->appw, &r->appw_grown) ;
        return 0 ;
      }
      if (errno != EPIPE) { strerr_warnsys(PROG, ": fatal: ", "write to application") ; return UST_EXIT_SYS ; }
      r->app_gone = 1 ;
      break ;
    }
    to_app.pos += (size_t)w ;
    r->to_app_total += (uint64_t)w ;
    r->moved = 1 ;
  }
  if (r->app_gone || to_app.pos == to_app.len) to_app.pos = to_app.len = 0 ;
  if (r->appw >= 0 && (r->app_gone || (r->net_eof && !to_app.len)))
  {
    close(r->appw) ;
    r->appw = -1 ;
  }
  return 0 ;
}

/* Reads cleartext from the application into to_net. */
static int pump_from_app (relay *r)
{
  if (r->app_eof || to_net.len) return 0 ;
  for (;;)
  {
    ssize_t n = read(r->appr, to_net.data, sizeof(to_net.data)) ;
    if (n > 0)
    {
      to_net.pos = 0 ; to_net.len = (size_t)n ; r->moved = 1 ;
      r->to_net_total += (uint64_t)n ;
      if ((size_t)n == sizeof(to_net.data) && r->to_net_total >= PIPE_BULK_AFTER) grow_pipe(r->appr, &r->appr_grown) ;
      return 0 ;
    }
    if (!n) { r->app_eof = 1 ; return 0 ; }
    if (errno == EINTR) continue ;
    if (errno == EAGAIN) return 0 ;
    if (errno == ECONNRESET) { r->app_eof = 1 ; return 0 ; }
    strerr_warnsys(PROG, ": fatal: ", "read from application") ;
    return UST_EXIT_SYS ;
  }
}

/* Encrypts to_net, flushes, and closes our write side once the application is done. */
static int pump_to_net (relay *r)
{
  tlsb_status st ;
  if (r->net_closed) { to_net.pos = to_net.len = 0 ; return 0 ; }
  r->wwant = TLSB_DONE ;
  while (to_net.pos < to_net.len)
  {
    size_t put = 0 ;
    st = tlsb_write(r->s, to_net.data + to_net.pos, to_net.len - to_net.pos, &put) ;
    if (st == TLSB_DONE) { to_net.pos += put ; r->moved = 1 ; continue ; }
    if (st == TLSB_WANT_READ || st == TLSB_WANT_WRITE) { r->wwant = st ; return 0 ; }
    if (r->net_eof) { r->net_closed = 1 ; to_net.pos = to_net.len = 0 ; return 0 ; }  /* peer gone after its EOF */
    return fail_tls(r, "TLS write") ;
  }
  to_net.pos = to_net.len = 0 ;
  st = tlsb_flush(r->s) ;
  if (st == TLSB_WANT_WRITE || st == TLSB_WANT_READ) { r->wwant = st ; return 0 ; }
  if (st != TLSB_DONE)
  {
    if (r->net_eof) { r->net_closed = 1 ; return 0 ; }
    return fail_tls(r, "TLS write") ;
  }
  if (!r->app_eof) return 0 ;
  /* A peer that sent close_notify will send nothing more: a half-close (-s)
     would keep nothing open for it, and our close_notify is the clean end
     it waits for. Only now: until the application is done, its replies
     still go out (the BearSSL backend holds the peer's alert back). */
  if (r->o->close_notify_on_eof || r->net_eof_clean)
  {
    st = tlsb_close_notify(r->s) ;
    if (st == TLSB_WANT_WRITE || st == TLSB_WANT_READ) { r->wwant = st ; return 0 ; }
    if (st != TLSB_DONE && !r->net_eof) return fail_tls(r, "TLS close_notify") ;
  }
  else if (shutdown(r->netw, SHUT_WR) < 0 && errno == ENOTSOCK) close(r->netw) ;  /* a pipe: EOF by closing */
  r->net_closed = 1 ;
  return 0 ;
}

static int handshake_loop (relay *r, tain const *deadline)
{
  for (;;)
  {
    iopause_fd x ;
    int n ;
    tlsb_status st = tlsb_handshake(r->s) ;
    if (st == TLSB_DONE) return 0 ;
    if (st != TLSB_WANT_READ && st != TLSB_WANT_WRITE) { r->why = "the handshake failed" ; return fail_tls(r, "TLS handshake failed") ; }
    x.fd = st == TLSB_WANT_READ ? r->netr : r->netw ;
    x.events = st == TLSB_WANT_READ ? IOPAUSE_READ : IOPAUSE_WRITE ;
    n = iopause_g(&x, 1, deadline) ;
    if (n < 0) { if (errno == EINTR) continue ; r->why = "system error" ; strerr_warnsys(PROG, ": fatal: ", "iopause") ; return UST_EXIT_SYS ; }
    if (!n) { r->why = "the handshake timed out" ; strerr_warn(PROG, ": fatal: ", "TLS handshake timed out") ; return UST_EXIT_TLS ; }
  }
}

static void add_fd (iopause_fd *x, unsigned int *n, int fd, short events)
{
  for (unsigned int i = 0 ; i < *n ; i++)
    if (x[i].fd == fd) { x[i].events |= events ; return ; }
  x[*n].fd = fd ; x[*n].events = events ; x[*n].revents = 0 ;
  (*n)++ ;
}

static short want_events (tlsb_status st)
{
  return st == TLSB_WANT_READ ? IOPAUSE_READ : st == TLSB_WANT_WRITE ? IOPAUSE_WRITE : 0 ;
}

static int relay_loop (relay *r)
{
  tain idle_deadline, linger_deadline = TAIN_INFINITE, eof_deadline = TAIN_INFINITE, life_deadline ;
  int lingering = 0, eof_timed = 0 ;
  ust_deadline_in(&idle_deadline, r->o->idle_ms) ;
  /* Traffic resets the idle deadline, never this one: a client looping on
     NOOP inside TLS (where no proxy counts its commands) ends here. */
  ust_deadline_in(&life_deadline, r->o->lifetime_ms) ;
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0 ;
    int e, k ;
    tain const *deadline ;
    r->moved = 0 ;
    if ((e = pump_from_app(r)) || (e = pump_to_net(r)) || (e = pump_from_net(r)) || (e = pump_to_app(r)))
    {
      r->why = e == UST_EXIT_TLS ? "TLS error" : "system error" ;
      return e ;
    }
    if (!r->first) r->first = r->app_eof ? 'a' : r->net_eof ? 'p' : 0 ;
    if (r->net_closed && r->appw < 0 && !tlsb_pending_output(r->s))
    {
      if (r->net_eof)
      {
        r->why = r->first == 'a' ? "the application ended first" :
          r->net_eof_clean ? "the peer ended first, with close_notify" : "the peer ended first, without close_notify" ;
        return UST_EXIT_OK ;
      }
      /* The application has left but the peer still talks: drain it for a
         short while, so that closing does not reset the connection under our
         last bytes before the peer has read them. */
      if (!lingering) ust_deadline_in(&linger_deadline, ENGINE_LINGER_MS) ;
      lingering = 1 ;
    }
    if (r->moved) ust_deadline_in(&idle_deadline, r->o->idle_ms) ;
    /* After the peer's EOF the application has -g in all to finish what it
       writes: one that never closes its output (a server spinning on its
       closed stdin) would hold the session for the whole idle time. */
    if (r->net_eof && !eof_timed && r->o->grace_ms != ENGINE_GRACE_NONE)
    {
      eof_timed = 1 ;
      ust_deadline_in(&eof_deadline, r->o->grace_ms ? r->o->grace_ms : 1) ;
    }
    /* The last read stopped because to_app was full, not for want of input:
       the TLS layer may still hold decrypted bytes (a record cut at the end
       of the buffer) that no poll of the socket would announce. Read again. */
    if (!r->net_eof && r->rwant == TLSB_DONE && to_app.len < sizeof(to_app.data)) continue ;

    if (!r->app_eof && !to_net.len) add_fd(x, &n, r->appr, IOPAUSE_READ) ;
    if (r->appw >= 0) add_fd(x, &n, r->appw, to_app.len ? IOPAUSE_WRITE : 0) ;  /* 0: still told of POLLERR when the app stops reading */
    if (!r->net_eof && to_app.len < sizeof(to_app.data)) add_fd(x, &n, r->rwant == TLSB_WANT_WRITE ? r->netw : r->netr, want_events(r->rwant ? r->rwant : TLSB_WANT_READ)) ;
    if (r->wwant) add_fd(x, &n, r->wwant == TLSB_WANT_READ ? r->netr : r->netw, want_events(r->wwant)) ;
    else if (tlsb_pending_output(r->s) && !r->net_closed) add_fd(x, &n, r->netw, IOPAUSE_WRITE) ;

    deadline = lingering && tain_less(&linger_deadline, &idle_deadline) ? &linger_deadline : &idle_deadline ;
    if (eof_timed && tain_less(&eof_deadline, deadline)) deadline = &eof_deadline ;
    if (tain_less(&life_deadline, deadline)) deadline = &life_deadline ;
    k = iopause_g(x, n, deadline) ;
    if (k < 0)
    {
      if (errno == EINTR) continue ;
      r->why = "system error" ;
      strerr_warnsys(PROG, ": fatal: ", "iopause") ;
      return UST_EXIT_SYS ;
    }
    if (!k)
    {
      if (lingering && !tain_less(&STAMP, &linger_deadline))
      {
        r->why = "the application ended first; the peer did not end its side" ;
        return UST_EXIT_OK ;
      }
      if (eof_timed && !tain_less(&STAMP, &eof_deadline))
      {
        r->why = "the application did not end within -g of the peer's end" ;
        strerr_warn(PROG, ": warning: ", "the application did not end its output within -g of the peer's EOF") ;
        return UST_EXIT_IDLE ;
      }
      if (!tain_less(&STAMP, &life_deadline))
      {
        r->why = "the session lifetime -L ran out" ;
        strerr_warn(PROG, ": warning: ", "the session lifetime -L ran out: closing") ;
        return UST_EXIT_IDLE ;
      }
      r->why = "idle timeout" ;
      strerr_warn(PROG, ": fatal: ", "idle timeout") ;
      return UST_EXIT_IDLE ;
    }
    for (unsigned int i = 0 ; i < n ; i++)
      if (x[i].fd == r->appw && (x[i].revents & IOPAUSE_EXCEPT) && !(x[i].revents & IOPAUSE_WRITE))
        r->app_gone = 1 ;
  }
}

int engine_run (tlsb *s, engine_opts const *o, int appr, int appw, int netr, int netw)
{
  relay r = { .s = s, .o = o, .appr = appr, .appw = appw, .netr = netr, .netw = netw, .why = "?" } ;
  tain deadline ;
  tlsinfo info ;
  int e ;
  signal(SIGPIPE, SIG_IGN) ;
  set_nonblocking(appr) ; set_nonblocking(appw) ;
  set_nonblocking(netr) ; set_nonblocking(netw) ;
  set_nodelay(netw) ;
  tain_now_set_stopwatch_g() ;
  ust_deadline_in(&deadline, o->handshake_ms) ;
  e = handshake_loop(&r, &deadline) ;
  if (e) { log_end(o, 0, &r, e) ; return e ; }
  memset(&info, 0, sizeof(info)) ;
  tlsb_info(s, &info) ;
  log_established(o, &info, tlsb_resumed(s)) ;
  if (o->notif >= 0) notify(o, &info) ;
  e = relay_loop(&r) ;
  log_end(o, &info, &r, e) ;
  return e ;
}

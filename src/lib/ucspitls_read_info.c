/* ucspitls_read_info.c: reads the info block that follows a successful handshake. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <skalibs/tai.h>
#include "ucspitls.h"

/* Milliseconds left until deadline (at least 1), or 0 if it has passed. */
static int ms_left (tain const *deadline)
{
  tain now, left ;
  tain_now(&now) ;
  if (!tain_less(&now, deadline)) return 0 ;
  tain_sub(&left, deadline, &now) ;
  return tain_to_millisecs(&left) + 1 ;
}

int ucspitls_read_info (int fd, tlsinfo *info, unsigned int timeout_ms)
{
  char buf[TLSINFO_BLOCK_MAX] ;
  size_t n = 0 ;
  tain deadline ;
  if (timeout_ms)
  {
    tain now, span ;
    tain_now(&now) ;
    tain_from_millisecs(&span, timeout_ms > 0x7fffffffU ? 0x7fffffff : (int)timeout_ms) ;
    tain_add(&deadline, &now, &span) ;
  }
  for (;;)
  {
    /* Stop at the terminator, not at EOF: some controllers keep the socket open. */
    long done = tlsinfo_block_complete(buf, n) ;
    struct pollfd p = { .fd = fd, .events = POLLIN } ;
    int ms = -1 ;
    ssize_t r ;
    if (done > 0) return tlsinfo_block_parse(buf, (size_t)done, info) < 0 ? (errno = EPROTO, -1) : 0 ;
    if (done < 0 || n >= sizeof(buf)) return (errno = EPROTO, -1) ;
    if (timeout_ms && !(ms = ms_left(&deadline))) return (errno = ETIMEDOUT, -1) ;
    r = poll(&p, 1, ms) ;
    if (r < 0) { if (errno == EINTR) continue ; return -1 ; }
    if (!r) continue ;  /* ms_left ends it */
    /* One byte at a time is not needed: whatever follows the block is not ours to read anyway. */
    r = read(fd, buf + n, sizeof(buf) - n) ;
    if (r < 0)
    {
      if (errno == EINTR || errno == EAGAIN) continue ;
      if (errno == ECONNRESET) errno = EPIPE ;
      return -1 ;
    }
    if (!r) return (errno = EPIPE, -1) ;  /* EOF before \0\0: the handshake failed */
    n += (size_t)r ;
  }
}

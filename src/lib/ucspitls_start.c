/* ucspitls_start.c: asks the controller for TLS and waits for the handshake's outcome. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include "ucspitls.h"

static int write_command (int fd, char c)
{
  for (;;)
  {
    /* send, not write: a controller that is gone must give EPIPE, not SIGPIPE */
    ssize_t r = send(fd, &c, 1, MSG_NOSIGNAL) ;
    if (r == 1) return 0 ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && errno == EAGAIN)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT } ;
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1 ;
      continue ;
    }
    return -1 ;
  }
}

int ucspitls_start (ucspitls *u, int const *net, unsigned int nnet, tlsinfo *info, unsigned int timeout_ms)
{
  int e ;
  if (u->ctl < 0) return (errno = EPIPE, -1) ;
  for (unsigned int i = 0 ; i < nnet ; i++)
    if (ucspitls_fd_block(net[i]) < 0) goto err ;
  if (write_command(u->ctl, info ? 'Y' : 'y') < 0)
  {
    if (errno == ECONNRESET) errno = EPIPE ;
    goto err ;
  }
  if (info && ucspitls_read_info(u->ctl, info, timeout_ms) < 0) goto err ;
  close(u->ctl) ;
  u->ctl = -1 ;
  return 0 ;

 err:
  e = errno ;
  close(u->ctl) ;
  u->ctl = -1 ;
  errno = e ;
  return -1 ;
}

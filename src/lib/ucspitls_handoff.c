/* ucspitls_handoff.c: the direct handoff: the engine gets the application's
   own descriptors for the cleartext side, and the application can leave the
   data path. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "ucspitls.h"

static int send_command (int fd, int fdr, int fdw)
{
  char c = 'H' ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(2 * sizeof(int))] ; } ctl ;
  struct iovec v = { .iov_base = &c, .iov_len = 1 } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf } ;
  struct cmsghdr *h = CMSG_FIRSTHDR(&m) ;
  int fds[2] = { fdr, fdw } ;
  memset(ctl.buf, 0, sizeof ctl.buf) ;
  h->cmsg_level = SOL_SOCKET ;
  h->cmsg_type = SCM_RIGHTS ;
  h->cmsg_len = CMSG_LEN(sizeof fds) ;
  memcpy(CMSG_DATA(h), fds, sizeof fds) ;
  for (;;)
  {
    /* the byte and the descriptors travel in one message, or not at all */
    ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL) ;
    if (r == 1) return 0 ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && errno == EAGAIN)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT } ;
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1 ;
      continue ;
    }
    if (r < 0 && errno == ECONNRESET) errno = EPIPE ;
    return -1 ;
  }
}

int ucspitls_handoff (ucspitls *u, int const *net, unsigned int nnet, int fdr, int fdw, tlsinfo *info, unsigned int timeout_ms)
{
  int e ;
  if (u->ctl < 0) return (errno = EPIPE, -1) ;
  if (!u->handoff) return (errno = ENOTSUP, -1) ;
  for (unsigned int i = 0 ; i < nnet ; i++)
    if (ucspitls_fd_block(net[i]) < 0) goto err ;
  if (send_command(u->ctl, fdr, fdw) < 0) goto err ;
  if (u->rfd >= 0) { close(u->rfd) ; u->rfd = -1 ; }
  if (u->wfd >= 0) { close(u->wfd) ; u->wfd = -1 ; }
  if (ucspitls_read_info(u->ctl, info, timeout_ms) < 0) goto err ;
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

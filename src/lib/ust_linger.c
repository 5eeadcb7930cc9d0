/* ust_linger.c: the last words to a peer that may still be sending. */
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include "ust.h"

void ust_linger (int in, int out, unsigned int ms, size_t max)
{
  char buf[8192] ;
  size_t total = 0 ;
  struct timespec t0 ;
  if (shutdown(out, SHUT_WR) < 0) return ;  /* not a socket: nothing to reset */
  ust_ms_start(&t0) ;
  while (total < max)
  {
    struct pollfd x = { .fd = in, .events = POLLIN } ;
    long left = ust_ms_left(&t0, ms) ;
    ssize_t r ;
    if (left <= 0 || poll(&x, 1, (int)left) <= 0) break ;
    r = read(in, buf, sizeof buf) ;
    if (r <= 0) break ;
    total += (size_t)r ;
  }
}

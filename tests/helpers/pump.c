/* pump.c: pump [-k] [-c] rfd wfd: copies stdin to wfd and rfd to stdout at the
   same time (poll loop, any O_NONBLOCK state). At stdin's EOF it closes wfd
   (shutdown(SHUT_WR) first if it is a socket), unless -k: then wfd stays open
   until rfd's EOF. Ends at rfd's EOF.
   -c: print only the byte count and a checksum of what rfd gave, not the bytes.
   The client side of the tests under tlsc/ucspitlsc (network on 6/7). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/sha256.h>

static char inbuf[65536], outbuf[65536] ;

static void die (char const *what)
{
  fprintf(stderr, "pump: %s: %s\n", what, strerror(errno)) ;
  exit(111) ;
}

/* Writes all of buf to fd, waiting with poll when fd is non-blocking. */
static void put (int fd, char const *buf, size_t len)
{
  while (len)
  {
    ssize_t w = write(fd, buf, len) ;
    if (w < 0)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT } ;
      if (errno == EINTR) continue ;
      if (errno != EAGAIN) die("write") ;
      poll(&p, 1, -1) ;
      continue ;
    }
    buf += w ; len -= (size_t)w ;
  }
}

int main (int argc, char **argv)
{
  int keep = 0, count = 0, opt ;
  int rfd, wfd ;
  int in_done = 0, out_done = 0 ;
  unsigned long long total = 0 ;
  SHA256Schedule ctx = SHA256_INIT() ;
  while ((opt = getopt(argc, argv, "kc")) != -1)
  {
    if (opt == 'k') keep = 1 ;
    else if (opt == 'c') count = 1 ;
    else { fprintf(stderr, "usage: pump [-k] [-c] rfd wfd\n") ; return 100 ; }
  }
  if (argc - optind != 2) { fprintf(stderr, "usage: pump [-k] [-c] rfd wfd\n") ; return 100 ; }
  rfd = atoi(argv[optind]) ; wfd = atoi(argv[optind + 1]) ;
  while (!out_done)
  {
    struct pollfd p[2] = { { .fd = in_done ? -1 : 0, .events = POLLIN }, { .fd = rfd, .events = POLLIN } } ;
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue ; die("poll") ; }
    if (p[0].revents)
    {
      ssize_t r = read(0, inbuf, sizeof(inbuf)) ;
      if (r < 0 && errno != EAGAIN && errno != EINTR) die("read stdin") ;
      if (r > 0) put(wfd, inbuf, (size_t)r) ;
      if (!r)
      {
        in_done = 1 ;
        if (!keep)
        {
          shutdown(wfd, SHUT_WR) ;
          close(wfd) ;
        }
      }
    }
    if (p[1].revents)
    {
      ssize_t r = read(rfd, outbuf, sizeof(outbuf)) ;
      if (r < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNRESET) die("read") ;
      if (r > 0)
      {
        total += (unsigned long long)r ;
        if (count) sha256_update(&ctx, outbuf, (size_t)r) ;
        else put(1, outbuf, (size_t)r) ;
      }
      if (!r || (r < 0 && errno == ECONNRESET)) out_done = 1 ;
    }
  }
  if (count)
  {
    unsigned char d[32] ;
    sha256_final(&ctx, (char *)d) ;
    printf("bytes=%llu sha256=", total) ;
    for (unsigned int i = 0 ; i < 32 ; i++) printf("%02x", d[i]) ;
    printf("\n") ;
  }
  return 0 ;
}

/* ucspitls_fd_block.c: clears O_NONBLOCK on a descriptor. */
#include <fcntl.h>
#include "ucspitls.h"

int ucspitls_fd_block (int fd)
{
  int flags = fcntl(fd, F_GETFL) ;
  if (flags < 0) return -1 ;
  if (!(flags & O_NONBLOCK)) return 0 ;
  return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) ;
}

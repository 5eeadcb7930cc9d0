/* setnb.c: setnb fd... -- prog...: sets O_NONBLOCK on the given descriptors,
   then execs prog. Tests use it to hand the engines and controllers
   non-blocking sockets and pipes, as a careless parent would. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main (int argc, char **argv)
{
  int i = 1 ;
  for (; i < argc && strcmp(argv[i], "--") ; i++)
  {
    int fd = atoi(argv[i]) ;
    int flags = fcntl(fd, F_GETFL) ;
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    {
      fprintf(stderr, "setnb: fd %d: %s\n", fd, strerror(errno)) ;
      return 111 ;
    }
  }
  if (i + 1 >= argc)
  {
    fprintf(stderr, "usage: setnb fd... -- prog...\n") ;
    return 100 ;
  }
  execvp(argv[i + 1], argv + i + 1) ;
  fprintf(stderr, "setnb: exec %s: %s\n", argv[i + 1], strerror(errno)) ;
  return 111 ;
}

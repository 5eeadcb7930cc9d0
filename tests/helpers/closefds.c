/* closefds.c: closefds prog...: closes every descriptor above 2, then execs
   prog. The test harness (bats keeps fd 3 for its output) and its parents may
   leave descriptors open; servers started through this see only 0, 1, 2, so
   descriptor-leak tests measure the programs under test alone. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main (int argc, char **argv)
{
  int fds[1024], n = 0 ;
  DIR *d = opendir("/proc/self/fd") ;
  struct dirent *e ;
  if (argc < 2) { fprintf(stderr, "usage: closefds prog...\n") ; return 100 ; }
  if (!d) { perror("closefds: /proc/self/fd") ; return 111 ; }
  while ((e = readdir(d)) && n < 1024)
  {
    int fd = atoi(e->d_name) ;
    if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(d)) fds[n++] = fd ;
  }
  closedir(d) ;
  for (int i = 0 ; i < n ; i++) close(fds[i]) ;
  execvp(argv[1], argv + 1) ;
  fprintf(stderr, "closefds: exec %s: %s\n", argv[1], strerror(errno)) ;
  return 111 ;
}

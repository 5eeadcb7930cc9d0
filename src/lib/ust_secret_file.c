/* ust_secret_file.c: opening, checking and locking a file that holds session secrets (SESSIONCACHE, SESSIONFILE). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include "ust.h"

int ust_secret_fd_check (int fd, char const **why)
{
  struct stat st ;
  if (fstat(fd, &st) < 0) { *why = strerror(errno) ; return -1 ; }
  if (!S_ISREG(st.st_mode)) { *why = "not a regular file" ; return -1 ; }
  if (st.st_nlink != 1) { *why = "it has other hard links (refused: it could be another file's)" ; return -1 ; }
  if (st.st_uid != geteuid() && st.st_uid != 0) { *why = "owned by another user (it must belong to the engine's user or to root)" ; return -1 ; }
  if (st.st_mode & 077) { *why = "group or others have access to it (it holds session secrets: chmod 600)" ; return -1 ; }
  return 0 ;
}

int ust_secret_file_open (char const *file, char const **why)
{
  int fd ;
  do fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600) ;
  while (fd < 0 && errno == EINTR) ;
  if (fd < 0) { *why = errno == ELOOP ? "a symbolic link (refused: name the file itself)" : strerror(errno) ; return -1 ; }
  if (ust_secret_fd_check(fd, why) < 0) { close(fd) ; return -1 ; }
  return fd ;
}

int ust_secret_lock (int fd, int how)
{
  for (unsigned int i = 0 ; i < 20 ; i++)
  {
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 250000 } ;
    if (!flock(fd, how | LOCK_NB)) return 0 ;
    if (errno != EWOULDBLOCK && errno != EINTR) return -1 ;
    nanosleep(&ts, 0) ;
  }
  return -1 ;
}

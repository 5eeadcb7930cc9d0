/* check_proc.c: what /proc tells about prog's processes: descriptor flags,
   descriptors, environment. The flags belong to the open file, so they are
   what an engine given the same socket would inherit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "check.h"
#include "exitcodes.h"
#include "ust.h"

#define TREE_MAX 64

/* Reads up to max-1 bytes of a /proc file into buf, NUL-terminated. */
static ssize_t slurp (char const *path, char *buf, size_t max)
{
  size_t n = 0 ;
  int fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  while (n + 1 < max)
  {
    ssize_t r = read(fd, buf + n, max - 1 - n) ;
    if (r < 0) { if (errno == EINTR) continue ; close(fd) ; return -1 ; }
    if (!r) break ;
    n += (size_t)r ;
  }
  close(fd) ;
  buf[n] = 0 ;
  return (ssize_t)n ;
}

int check_proc_fdflags (pid_t pid, int fd, unsigned int *flags)
{
  char path[64], buf[1024] ;
  char const *p ;
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd) ;
  if (slurp(path, buf, sizeof buf) < 0) return -1 ;
  p = strstr(buf, "flags:") ;
  if (!p) return (errno = EPROTO, -1) ;
  *flags = (unsigned int)strtoul(p + 6, 0, 8) ;
  return 0 ;
}

int check_proc_fdtarget (pid_t pid, int fd, char *buf, size_t max)
{
  char path[64] ;
  ssize_t r ;
  snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd) ;
  r = readlink(path, buf, max - 1) ;
  if (r < 0) return -1 ;
  buf[r] = 0 ;
  return 0 ;
}

static pid_t ppid_of (pid_t pid)
{
  char path[64], buf[1024] ;
  char const *p ;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid) ;
  if (slurp(path, buf, sizeof buf) < 0) return -1 ;
  p = strrchr(buf, ')') ;  /* the command name may hold anything */
  if (!p || strlen(p) < 4) return -1 ;
  return (pid_t)strtol(p + 4, 0, 10) ;
}

/* The processes of the tree rooted at root (root included), at most max. */
static unsigned int tree (pid_t root, pid_t *out, unsigned int max)
{
  pid_t all[4096], parent[4096] ;
  unsigned int nall = 0, n = 0 ;
  DIR *d = opendir("/proc") ;
  struct dirent *e ;
  out[n++] = root ;
  if (!d) return n ;
  while ((e = readdir(d)) && nall < 4096)
  {
    char *end ;
    long pid = strtol(e->d_name, &end, 10) ;
    if (*end || pid <= 0) continue ;
    all[nall] = (pid_t)pid ;
    parent[nall++] = ppid_of((pid_t)pid) ;
  }
  closedir(d) ;
  /* breadth first: children of those found so far */
  for (unsigned int i = 0 ; i < n ; i++)
    for (unsigned int j = 0 ; j < nall && n < max ; j++)
      if (parent[j] == out[i]) out[n++] = all[j] ;
  return n ;
}

/* 1 if some process of the tree other than self holds target. */
static int shared_in_tree (char const *target, pid_t self, pid_t const *pids, unsigned int n)
{
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char path[64] ;
    DIR *d ;
    struct dirent *e ;
    int found = 0 ;
    if (pids[i] == self) continue ;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pids[i]) ;
    d = opendir(path) ;
    if (!d) continue ;
    while (!found && (e = readdir(d)))
    {
      char t[256] ;
      if (e->d_name[0] == '.') continue ;
      if (check_proc_fdtarget(pids[i], atoi(e->d_name), t, sizeof t) == 0 && !strcmp(t, target)) found = 1 ;
    }
    closedir(d) ;
    if (found) return 1 ;
  }
  return 0 ;
}

int check_proc_extra_fds (pid_t pid, pid_t root, int const *expected, unsigned int n, stralloc *out, unsigned int *count)
{
  char path[64] ;
  pid_t pids[TREE_MAX] ;
  unsigned int npids = 0 ;
  DIR *d ;
  struct dirent *e ;
  *count = 0 ;
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid) ;
  d = opendir(path) ;
  if (!d) return -1 ;
  if (root > 0) npids = tree(root, pids, TREE_MAX) ;
  while ((e = readdir(d)))
  {
    char t[256], num[16] ;
    int fd, known = 0 ;
    if (e->d_name[0] == '.') continue ;
    fd = atoi(e->d_name) ;
    for (unsigned int i = 0 ; i < n ; i++) if (expected[i] == fd) known = 1 ;
    if (known) continue ;
    if (pid == getpid() && fd == dirfd(d)) continue ;  /* opendir's own descriptor */
    if (check_proc_fdtarget(pid, fd, t, sizeof t) < 0) continue ;  /* opendir's own descriptor is ours, not pid's */
    /* a pipe or socket to another process of prog is prog's own plumbing (a proxy's backend) */
    /* pidfds, eventfds, timerfds: made by the process for itself, never a socket or file it was handed */
    if (!strncmp(t, "anon_inode:", 11)) continue ;
    if ((!strncmp(t, "pipe:", 5) || !strncmp(t, "socket:", 7)) && shared_in_tree(t, pid, pids, npids)) continue ;
    snprintf(num, sizeof num, " %d=", fd) ;
    if (!stralloc_cats(out, num) || !stralloc_cats(out, t)) { closedir(d) ; return -1 ; }
    (*count)++ ;
  }
  closedir(d) ;
  return 0 ;
}

int check_proc_tls_env (pid_t pid, stralloc *out, unsigned int *count)
{
  char path[64] ;
  static char buf[131072] ;
  ssize_t len ;
  *count = 0 ;
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid) ;
  len = slurp(path, buf, sizeof buf) ;
  if (len < 0) return -1 ;
  for (size_t i = 0 ; i < (size_t)len ; i += strlen(buf + i) + 1)
  {
    char const *eq ;
    if (!ust_is_tls_var(buf + i)) continue ;
    eq = strchr(buf + i, '=') ;
    if ((*count)++ && !stralloc_catb(out, " ", 1)) return -1 ;
    if (!stralloc_catb(out, buf + i, eq ? (size_t)(eq - (buf + i)) : strlen(buf + i))) return -1 ;
  }
  return 0 ;
}

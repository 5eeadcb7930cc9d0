/* check_execwatch.c: controller mode's ptrace watch of the controller's
   side. O_NONBLOCK belongs to the open file and an engine may set it for
   itself once it runs, so the only moment that tells what the controller
   did is its exec of the engine: the tracee stops there before any engine
   code has run. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "check.h"

#define WATCH_OPTIONS (PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)

static void add (check_execwatch *w, pid_t pid)
{
  for (unsigned int i = 0 ; i < w->n ; i++) if (w->pid[i] == pid) return ;
  if (w->n < sizeof w->pid / sizeof w->pid[0]) w->pid[w->n++] = pid ;
}

static void drop (check_execwatch *w, pid_t pid)
{
  for (unsigned int i = 0 ; i < w->n ; i++)
    if (w->pid[i] == pid) { w->pid[i] = w->pid[--w->n] ; return ; }
}

static pid_t parent_of (char const *pid)
{
  char path[64], buf[512] ;
  char const *p ;
  FILE *f ;
  size_t n ;
  snprintf(path, sizeof path, "/proc/%s/stat", pid) ;
  f = fopen(path, "re") ;
  if (!f) return -1 ;
  n = fread(buf, 1, sizeof buf - 1, f) ;
  fclose(f) ;
  buf[n] = 0 ;
  p = strrchr(buf, ')') ;
  if (!p || strlen(p) < 4) return -1 ;
  return (pid_t)strtol(p + 4, 0, 10) ;
}

int check_execwatch_start (check_execwatch *w)
{
  pid_t self = getpid() ;
  DIR *d = opendir("/proc") ;
  struct dirent *e ;
  int err = ESRCH ;
  w->n = 0 ;
  if (!d) return -1 ;
  while ((e = readdir(d)))
  {
    char *end ;
    long pid = strtol(e->d_name, &end, 10) ;
    if (*end || pid <= 0 || parent_of(e->d_name) != self) continue ;
    if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, (void *)(long)WATCH_OPTIONS) == 0) add(w, (pid_t)pid) ;
    else err = errno ;
  }
  closedir(d) ;
  if (!w->n) return (errno = err, -1) ;
  return (int)w->n ;
}

pid_t check_execwatch_step (check_execwatch *w)
{
  for (;;)
  {
    int st ;
    pid_t pid ;
    if (!w->n) return -1 ;
    pid = waitpid(-1, &st, __WALL | WNOHANG) ;
    if (pid < 0) { if (errno == EINTR) continue ; w->n = 0 ; return -1 ; }
    if (!pid) return 0 ;
    if (WIFEXITED(st) || WIFSIGNALED(st)) { drop(w, pid) ; continue ; }
    if (!WIFSTOPPED(st)) continue ;
    add(w, pid) ;  /* a new child's first stop may come before its parent's fork event */
    switch (st >> 16)
    {
      case PTRACE_EVENT_EXEC : return pid ;
      case PTRACE_EVENT_FORK :
      case PTRACE_EVENT_VFORK :
      case PTRACE_EVENT_CLONE :
      {
        unsigned long child ;
        if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0) add(w, (pid_t)child) ;
        ptrace(PTRACE_CONT, pid, 0, 0) ;
        break ;
      }
      case PTRACE_EVENT_STOP : ptrace(PTRACE_CONT, pid, 0, 0) ; break ;
      default : ptrace(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(st)) ; break ;  /* a signal: deliver it */
    }
  }
}

void check_execwatch_end (check_execwatch *w)
{
  while (w->n)
  {
    pid_t pid = w->pid[--w->n] ;
    /* a tracee must be stopped to be let go; the one at its exec already is */
    if (ptrace(PTRACE_DETACH, pid, 0, 0) == 0) continue ;
    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) continue ;
    for (;;)
    {
      int st ;
      pid_t r = waitpid(pid, &st, __WALL) ;
      if (r < 0) { if (errno == EINTR) continue ; break ; }
      if (WIFEXITED(st) || WIFSIGNALED(st)) break ;
      if (!WIFSTOPPED(st)) continue ;
      if ((st >> 16) == 0) { ptrace(PTRACE_DETACH, pid, 0, (void *)(long)WSTOPSIG(st)) ; break ; }  /* a signal: keep it */
      if ((st >> 16) == PTRACE_EVENT_FORK || (st >> 16) == PTRACE_EVENT_VFORK || (st >> 16) == PTRACE_EVENT_CLONE)
      {
        unsigned long child ;
        /* the new child is traced too: it must be let go as well */
        if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0) add(w, (pid_t)child) ;
      }
      ptrace(PTRACE_DETACH, pid, 0, 0) ;
      break ;
    }
  }
}

/* check_execwatch.c: controller mode's ptrace watch of the controller's
   side. O_NONBLOCK belongs to the open file and an engine may set it for
   itself once it runs, so the only moment that tells what the controller
   did is its exec of the engine: the tracee stops there before any engine
   code has run. Every event is collected before a tracee is let go, so
   that no process (a new child above all) is left in a ptrace-stop. */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "check.h"

#define WATCH_OPTIONS (PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)

static int known (check_execwatch const *w, pid_t pid)
{
  for (unsigned int i = 0 ; i < w->n ; i++) if (w->pid[i] == pid) return 1 ;
  return 0 ;
}

/* 0 if the list is full: the caller lets that process go at once. */
static int add (check_execwatch *w, pid_t pid)
{
  if (known(w, pid)) return 1 ;
  if (w->n >= sizeof w->pid / sizeof w->pid[0]) return 0 ;
  w->pid[w->n++] = pid ;
  return 1 ;
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
  w->exited = 0 ;
  w->exit_status = 0 ;
  if (!d) return -1 ;
  while ((e = readdir(d)))
  {
    char *end ;
    long pid = strtol(e->d_name, &end, 10) ;
    if (*end || pid <= 0 || parent_of(e->d_name) != self) continue ;
    if (w->n < sizeof w->pid / sizeof w->pid[0] && ptrace(PTRACE_SEIZE, (pid_t)pid, 0, (void *)(long)WATCH_OPTIONS) == 0) add(w, (pid_t)pid) ;
    else err = errno ;
  }
  closedir(d) ;
  if (!w->n) return (errno = err, -1) ;
  return (int)w->n ;
}

static int is_group_stop (int sig)
{
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ;
}

/* Resumes a tracee from the stop st reported, or lets it go (release). */
static void resume (check_execwatch *w, pid_t pid, int st, int release)
{
  int event = st >> 16, sig = WSTOPSIG(st) ;
  if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE)
  {
    unsigned long child ;
    /* the new child is traced from its birth: it must be known to be let go */
    if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0) add(w, (pid_t)child) ;
    sig = 0 ;
  }
  else if (event) sig = 0 ;  /* exec, or PTRACE_EVENT_STOP: an interrupt, a new child's first stop, a group-stop */
  if (release) { ptrace(PTRACE_DETACH, pid, 0, (void *)(long)sig) ; drop(w, pid) ; return ; }
  if (event == PTRACE_EVENT_STOP && is_group_stop(sig)) ptrace(PTRACE_LISTEN, pid, 0, 0) ;  /* job control still works */
  else ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) ;
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
    if (WIFEXITED(st) || WIFSIGNALED(st))
    {
      drop(w, pid) ;
      if (!w->exited || (WIFEXITED(st) && WEXITSTATUS(st)) || WIFSIGNALED(st)) { w->exited = pid ; w->exit_status = st ; }
      continue ;
    }
    if (!WIFSTOPPED(st)) continue ;
    /* a new child's first stop may come before its parent's fork event */
    if (!add(w, pid)) { resume(w, pid, st, 1) ; continue ; }  /* no room: let it go */
    if ((st >> 16) == PTRACE_EVENT_EXEC) return pid ;
    resume(w, pid, st, 0) ;
  }
}

void check_execwatch_release (check_execwatch *w, pid_t pid)
{
  /* it is in its exec stop, reported and not resumed */
  ptrace(PTRACE_DETACH, pid, 0, 0) ;
  drop(w, pid) ;
}

unsigned int check_execwatch_end (check_execwatch *w, unsigned int ms)
{
  struct timespec t0 ;
  for (unsigned int i = 0 ; i < w->n ; i++) ptrace(PTRACE_INTERRUPT, w->pid[i], 0, 0) ;
  clock_gettime(CLOCK_MONOTONIC, &t0) ;
  while (w->n)
  {
    int st ;
    pid_t pid = waitpid(-1, &st, __WALL | WNOHANG) ;
    if (pid < 0) { if (errno == EINTR) continue ; w->n = 0 ; break ; }
    if (pid > 0)
    {
      if (WIFEXITED(st) || WIFSIGNALED(st)) drop(w, pid) ;
      else if (WIFSTOPPED(st))
      {
        unsigned int before = w->n ;
        resume(w, pid, st, 1) ;
        /* a child born of a fork event just collected: it stops at birth by itself; the interrupt is harmless */
        for (unsigned int i = before ; i < w->n ; i++) ptrace(PTRACE_INTERRUPT, w->pid[i], 0, 0) ;
      }
      continue ;
    }
    {
      struct timespec now, nap = { 0, 1000000 } ;
      clock_gettime(CLOCK_MONOTONIC, &now) ;
      if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= (long)ms) break ;
      nanosleep(&nap, 0) ;
    }
  }
  /* left: a process asleep where no interrupt reaches (a vfork parent, an
     uninterruptible read); it is let go at its next stop (a later call), or
     when we exit */
  return w->n ;
}

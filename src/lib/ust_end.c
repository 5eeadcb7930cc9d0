/* ust_end.c: ending an application that outlives its session (a server
   that spins on a closed stdin would hold its tcpserver slot for ever). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "ust.h"

int ust_pidfd_open (int pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0) ;
#else
  (void)pid ;
  return (errno = ENOSYS, -1) ;
#endif
}

/* Is pid still there? Without a pidfd only our parent can be told (by
   getppid): a zombie parent still counts, which is right, it is not reaped. */
static int alive (int pidfd, int pid)
{
  if (pidfd >= 0)
  {
    struct pollfd x = { .fd = pidfd, .events = POLLIN } ;
    return poll(&x, 1, 0) == 0 ;
  }
  return getppid() == pid ;
}

/* Reads a small /proc file into buf. Returns its length, or -1. */
static ssize_t slurp (char const *path, char *buf, size_t max)
{
  ssize_t n ;
  int fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  n = read(fd, buf, max - 1) ;
  close(fd) ;
  if (n >= 0) buf[n] = 0 ;
  return n ;
}

/* 1 if pid is our parent, asleep in wait() with us as its only child: a
   backend that reaps its children before it exits, which would wait for us
   while we wait for it. It is done with its session: we leave, it reaps us
   and ends. Where /proc cannot tell (no wchan, no children file), 0. */
static int waits_for_us (int pid)
{
  char path[64], buf[64] ;
  ssize_t n ;
  unsigned long only ;
  char *end ;
  if (getppid() != pid) return 0 ;
  snprintf(path, sizeof path, "/proc/%d/wchan", pid) ;
  if (slurp(path, buf, sizeof buf) < 0 || strcmp(buf, "do_wait")) return 0 ;
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid) ;
  n = slurp(path, buf, sizeof buf) ;
  if (n <= 0) return 0 ;
  only = strtoul(buf, &end, 10) ;
  while (*end == ' ' || *end == '\n') end++ ;
  return !*end && only == (unsigned long)getpid() ;
}

/* Waits up to ms for pid to be gone (or to wait for us). Returns 1 if so.
   What has no event to wait on is looked for after 1 ms, then 2, 4, 8, 16
   and every 20 ms: a parent that reaps its other children (the engine, a
   zombie for a moment) before it waits for us is seen in a few ms. */
static int wait_gone (int pidfd, int pid, unsigned int ms)
{
  struct timespec t0 ;
  long step = 1 ;
  ust_ms_start(&t0) ;
  for (;; step = step < 10 ? step * 2 : 20)
  {
    long left ;
    if (!alive(pidfd, pid) || waits_for_us(pid)) return 1 ;
    left = ust_ms_left(&t0, ms) ;
    if (left <= 0) return 0 ;
    if (pidfd >= 0)
    {
      /* an exit wakes us at once; a wait() for us is looked for in steps */
      struct pollfd x = { .fd = pidfd, .events = POLLIN } ;
      if (poll(&x, 1, getppid() == pid && left > step ? (int)step : (int)left) > 0) return 1 ;
    }
    else
    {
      struct timespec nap = { 0, (left < step ? left : step) * 1000000L } ;
      nanosleep(&nap, 0) ;
    }
  }
}

static void signal_it (int pidfd, int pid, int sig)
{
#ifdef SYS_pidfd_send_signal
  if (pidfd >= 0) { syscall(SYS_pidfd_send_signal, pidfd, sig, (void *)0, 0) ; return ; }
#endif
  if (getppid() == pid) kill(pid, sig) ;
}

int ust_end_process (int pidfd, int pid, unsigned int grace_ms, unsigned int kill_ms)
{
  if (wait_gone(pidfd, pid, grace_ms)) return 0 ;
  signal_it(pidfd, pid, SIGTERM) ;
  signal_it(pidfd, pid, SIGCONT) ;  /* a stopped process must run to take its SIGTERM */
  if (wait_gone(pidfd, pid, kill_ms)) return 1 ;
  signal_it(pidfd, pid, SIGKILL) ;
  return 2 ;
}

/* ust_end.c: ending an application that outlives its session (a server
   that spins on a closed stdin would hold its tcpserver slot for ever). */
#include <errno.h>
#include <poll.h>
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

/* Waits up to ms for pid to be gone. Returns 1 if it is. */
static int wait_gone (int pidfd, int pid, unsigned int ms)
{
  struct timespec t0 ;
  ust_ms_start(&t0) ;
  for (;;)
  {
    long left ;
    if (!alive(pidfd, pid)) return 1 ;
    left = ust_ms_left(&t0, ms) ;
    if (left <= 0) return 0 ;
    if (pidfd >= 0)
    {
      struct pollfd x = { .fd = pidfd, .events = POLLIN } ;
      if (poll(&x, 1, (int)left) > 0) return 1 ;
    }
    else
    {
      struct timespec nap = { 0, 20000000 } ;  /* no event to wait on: look every 20 ms */
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

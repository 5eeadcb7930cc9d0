/* wrapper_watch.c: a server's application ends with its session. The
   engine is the application's child and drops its privileges, so it could
   not signal it: a small process forked before the engine's exec keeps
   the application's, and nothing of the session. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "ust.h"
#include "wrapper.h"

static void close_from_to (int from, int to)
{
  if (from > to) return ;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned int)from, (unsigned int)to, 0U) == 0) return ;
#endif
  {
    long max = sysconf(_SC_OPEN_MAX) ;
    if (max < 0 || max > 1048576) max = 1048576 ;
    for (int fd = from ; fd <= to && fd < max ; fd++) close(fd) ;
  }
}

/* Keeps 2 (the log), a and b where they are (both above 2), closes every
   other descriptor; 0 and 1 become /dev/null. No renumbering: nothing to
   fail under a low descriptor limit. */
static void keep_only (int a, int b)
{
  int lo = a < b ? a : b, hi = a < b ? b : a ;
  int null = open("/dev/null", O_RDWR) ;
  if (null >= 0)
  {
    dup2(null, 0) ; dup2(null, 1) ;
    if (null > 2 && null != a && null != b) close(null) ;
  }
  close_from_to(3, lo - 1) ;
  close_from_to(lo + 1, hi - 1) ;
  close_from_to(hi + 1, 0x7fffffff) ;
}

void wrapper_watch_spawn (wrapper const *w, int app)
{
  int appfd, selffd ;
  pid_t pid ;
  /* getppid is not the application once it has died (a subreaper, init):
     never watch, let alone signal, a process that is not ours */
  if (w->role != TLSCONF_SERVER || (int)getppid() != app) return ;
  appfd = ust_pidfd_open(app) ;
  if (appfd < 0) return ;  /* Linux < 5.3: the proxies still end their backends */
  if ((int)getppid() != app) { close(appfd) ; return ; }  /* it died meanwhile: the pid may be another's */
  selffd = ust_pidfd_open((int)getpid()) ;
  if (selffd < 0) { close(appfd) ; return ; }
  if (appfd < 3 || selffd < 3) { close(appfd) ; close(selffd) ; return ; }  /* 0, 1 and 2 are taken: cannot happen */
  /* in ps and top: not one more engine or proxy. Named before the fork, so
     that the child never runs under our name, however late it is scheduled;
     we exec the engine next, which names us again. */
  prctl(PR_SET_NAME, "ust-watch", 0, 0, 0) ;
  pid = fork() ;
  if (pid < 0) strerr_warnwu1sys("fork the application's watch") ;
  if (pid)
  {
    close(appfd) ; close(selffd) ;
    return ;
  }
  keep_only(selffd, appfd) ;
  for (;;)
  {
    /* the engine (our parent, selffd) ends the session; the application may end first */
    struct pollfd x[2] = { { .fd = selffd, .events = POLLIN }, { .fd = appfd, .events = POLLIN } } ;
    int r = poll(x, 2, -1) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 || x[1].revents) _exit(0) ;
    if (x[0].revents) break ;
  }
  switch (ust_end_process(appfd, app, w->grace_ms, UST_END_KILL_MS))
  {
    case 1 : strerr_warnw1x("the application did not end after its session: SIGTERM sent") ; break ;
    case 2 : strerr_warnw1x("the application did not end after SIGTERM: SIGKILL sent") ; break ;
    default : break ;
  }
  _exit(0) ;
}

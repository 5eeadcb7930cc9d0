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

/* Keeps 2 (the log), a and b (moved to 3 and 4, the copies above closed
   with the rest); 0 and 1 become /dev/null. */
static void keep_only (int *a, int *b)
{
  int null = open("/dev/null", O_RDWR) ;
  if (null >= 0) { dup2(null, 0) ; dup2(null, 1) ; }
  /* through copies above 64: a or b may be 3 or 4 already */
  int ta = fcntl(*a, F_DUPFD, 64), tb = fcntl(*b, F_DUPFD, 64) ;
  dup2(ta, 3) ; *a = 3 ;
  dup2(tb, 4) ; *b = 4 ;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 5U, ~0U, 0U) == 0) return ;
#endif
  for (int fd = 5 ; fd < 65536 ; fd++) close(fd) ;
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
  pid = fork() ;
  if (pid < 0) strerr_warnwu1sys("fork the application's watch") ;
  if (pid)
  {
    close(appfd) ; close(selffd) ;
    return ;
  }
  keep_only(&selffd, &appfd) ;
  prctl(PR_SET_NAME, "ust-watch", 0, 0, 0) ;  /* in ps and top: not one more engine or proxy */
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

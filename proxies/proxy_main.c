/* proxy_main.c: the process split: the backend keeps the connection's pid, the child proxies. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "proxy-internal.h"
#include "ust.h"

static void exec_backend (char const *const *argv, char const *const *envp, int rfd, int wfd, ucspitls const *u)
{
  /* The backend speaks cleartext to the proxy: no UCSPI-TLS descriptors,
     no TLS facts (stale ones from outside would lie), and never the TLS
     configuration (key paths, TLS_UID...), which a controller such as
     s6-ucspitlsd leaves in its application's environment. */
  size_t n = 0 ;
  while (envp[n]) n++ ;
  {
    char const *env[n + 1] ;
    /* The backend must not hold the control socket: the controller waits for its EOF. */
    if (u->ctl >= 0) close(u->ctl) ;
    if (u->rfd >= 0) close(u->rfd) ;
    if (u->wfd >= 0) close(u->wfd) ;
    if (fd_move2(0, rfd, 1, wfd) < 0) strerr_diefsys(UST_EXIT_SYS, "move descriptors") ;
    if (ust_env_filter(env, n + 1, envp, 0, ust_ucspitls_vars) < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
    if (strchr(argv[0], '/')) execve(argv[0], (char *const *)argv, (char *const *)env) ;
    else execvpe(argv[0], (char *const *)argv, (char *const *)env) ;
    strerr_diefsys(UST_EXIT_SYS, "exec ", argv[0]) ;
  }
}

static void log_summary (proxy const *p, int code)
{
  char nums[64], codes[UINT_FMT + 16] ;
  char const *mode = p->tls == TLS_ACTIVE ? "tls " : p->tls == TLS_DECLINED ? "cleartext (TLS declined)" :
    p->tls == TLS_UNAVAILABLE ? "cleartext (TLS not available)" :
    p->tls == TLS_STARTING ? "STARTTLS accepted, no TLS session (the handshake failed)" : "cleartext" ;
  size_t k = 0 ;
  if (p->o->verbosity < 1) return ;
  memcpy(nums, "; injection attempts: ", 22) ; k = 22 ;
  nums[k + uint_fmt(nums + k, p->injections)] = 0 ;
  memcpy(codes, "; exit code ", 12) ;
  codes[12 + uint_fmt(codes + 12, (unsigned int)code)] = 0 ;
  /* After a direct handoff the session goes on without us: the engine
     writes the line of its real end. */
  strerr_warn(PROG, ": info: ", getenv("TCPREMOTEIP") ? getenv("TCPREMOTEIP") : "-",
    p->direct ? ": session handed off: " : ": session ended: ", mode,
    p->tls == TLS_ACTIVE ? p->info.protocol : "", p->tls == TLS_ACTIVE ? " " : "", p->tls == TLS_ACTIVE ? p->info.cipher : "",
    p->direct ? " (direct handoff: the engine relays with the backend and logs the end)" : "",
    p->injections ? nums : "", code ? codes : "") ;
}

/* The session is over, whoever ended it: nothing of it stays open here
   (the client sees the close now; the backend gets EOF, and EPIPE on its
   next write; the controller learns that TLS will not come). When the
   proxy ends a cleartext session the client has not ended, its last reply
   (a 421, a BYE) is still in the socket: it lingers (ust_linger) so that
   the close does not reset the connection with the reply in flight. */
static void close_session (proxy *p)
{
  if (p->bin >= 0) close(p->bin) ;
  if (p->bout >= 0) close(p->bout) ;
  p->bin = p->bout = -1 ;
  if (p->tls == TLS_ACTIVE)
  {
    if (p->cin > 1) close(p->cin) ;
    if (p->cout > 1) close(p->cout) ;
  }
  else if (!p->client_eof) ust_linger(0, 1, UST_LINGER_MS, UST_LINGER_MAX) ;
  ucspitls_decline(&p->u) ;
  proxy_drop_socket() ;
  p->cin = p->cout = -1 ;
}

/* ... and the backend, which holds the connection's pid (and its tcpserver
   slot), ends within -g, or is made to (DESIGN.md §5 rule 12). */
static void end_backend (proxy *p)
{
  switch (ust_end_process(p->backend_pidfd, (int)p->backend_pid, p->grace_spent ? 0 : p->o->grace_ms, UST_END_KILL_MS))
  {
    case 1 : proxy_log(p, 1, "the backend did not end after the session: SIGTERM sent", 0, 0) ; break ;
    case 2 : proxy_log(p, 1, "the backend did not end after SIGTERM: SIGKILL sent", 0, 0) ; break ;
    default : break ;
  }
}

int proxy_main (proxy_protocol const *proto, proxy_options const *o, char const *const *argv, char const *const *envp)
{
  static proxy pr ;  /* big buffers: not on the stack */
  proxy *p = &pr ;
  int tob[2], fromb[2] ;
  pid_t pid ;
  int code ;
  p->proto = proto ;
  p->o = o ;
  p->u.ctl = p->u.rfd = p->u.wfd = -1 ;
  proxy_client_line_max(p, 0) ;
  p->tls = ucspitls_from_env(&p->u, envp) < 0 ? TLS_UNAVAILABLE : TLS_OFFERED ;
  if (p->tls == TLS_UNAVAILABLE && errno != ENOENT)
    strerr_warn(PROG, ": warning: ", "ignoring invalid SSLCTLFD/SSLREADFD/SSLWRITEFD: TLS is not available") ;
  if (pipecoe(tob) < 0 || pipecoe(fromb) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  p->backend_pid = getpid() ;  /* the backend's after the exec below: known before the fork, never guessed after */
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (pid)
  {
    close(tob[1]) ; close(fromb[0]) ;
    exec_backend(argv, envp, tob[0], fromb[1], &p->u) ;
  }
  close(tob[0]) ; close(fromb[1]) ;
  /* A reader that left must show up as EPIPE, not kill us with replies still due.
     Only here: the backend keeps the disposition it was started with. */
  signal(SIGPIPE, SIG_IGN) ;
  /* a pidfd only while it is surely the backend (our parent): one that
     could not exec may be gone already, and its pid another's */
  p->backend_pidfd = getppid() == p->backend_pid ? ust_pidfd_open((int)p->backend_pid) : -1 ;
  if (p->backend_pidfd >= 0 && getppid() != p->backend_pid) { close(p->backend_pidfd) ; p->backend_pidfd = -1 ; }
  p->cin = 0 ; p->cout = 1 ;
  p->bin = fromb[0] ; p->bout = tob[1] ;
  if (ndelay_on(0) < 0 || ndelay_on(1) < 0 || ndelay_on(p->bin) < 0 || ndelay_on(p->bout) < 0)
    strerr_diefsys(UST_EXIT_SYS, "set descriptors non-blocking") ;
  proxy_session_begin(p) ;
  code = proxy_loop(p) ;
  proxy_session_end(p) ;
  /* The socket must not stay non-blocking for anyone after us (the controller's engine never got it). */
  if (p->tls != TLS_ACTIVE) { ndelay_off(0) ; ndelay_off(1) ; }
  if (!p->direct) close_session(p) ;
  log_summary(p, code) ;
  /* with the direct handoff the session goes on: the controller's watch
     ends the backend after the engine (wrapper_watch_spawn) */
  if (!p->direct) end_backend(p) ;
  return code ;
}

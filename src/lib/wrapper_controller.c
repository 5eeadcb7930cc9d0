/* wrapper_controller.c: ucspitlsd and ucspitlsc, the UCSPI-TLS controllers (DESIGN.md §3). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "ust.h"
#include "wrapper.h"

#define SERVER_USAGE "ucspitlsd [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k snilevel ] [ -t ms ] [ -L ms ] [ -g ms ] [ -v n ] [ -- ] prog..."
#define CLIENT_USAGE "ucspitlsc [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k servername ] [ -t ms ] [ -L ms ] [ -6 fd ] [ -7 fd ] [ -v n ] [ -- ] prog..."

/* Reads the application's command byte, and the descriptors of a direct
   handoff ('H') if any came with it (at most 2 kept in fds; *nfds set to 3
   if more came, and then none is kept). Returns what read() would, 1 for
   the byte. */
static ssize_t read_command (int ctl, char *c, int *fds, unsigned int *nfds)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(4 * sizeof(int))] ; } anc ;
  struct iovec v = { .iov_base = c, .iov_len = 1 } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = anc.buf, .msg_controllen = sizeof anc.buf } ;
  ssize_t r ;
  *nfds = 0 ;
  do r = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC) ;
  while (r < 0 && errno == EINTR) ;
  if (r <= 0) return r ;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m) ; h ; h = CMSG_NXTHDR(&m, h))
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
    {
      unsigned int n = (unsigned int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int)) ;
      for (unsigned int i = 0 ; i < n ; i++)
      {
        int fd ;
        memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd) ;
        if (*nfds < 2) fds[(*nfds)++] = fd ;
        else close(fd) ;
      }
    }
  if (m.msg_flags & MSG_CTRUNC)
  {
    /* more than we asked for: refused below, and nothing of it kept */
    for (unsigned int i = 0 ; i < *nfds ; i++) close(fds[i]) ;
    *nfds = 3 ;
  }
  return r ;
}

/* The controller child: waits for the application's one command byte. */
static void await_command (wrapper const *w, int app, int ctl, int fdr, int fdw, char const *const *envp) __attribute__((noreturn)) ;
static void await_command (wrapper const *w, int app, int ctl, int fdr, int fdw, char const *const *envp)
{
  char c ;
  int fds[2] = { -1, -1 } ;
  unsigned int nfds ;
  ssize_t r = read_command(ctl, &c, fds, &nfds) ;
  if (r < 0 && errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "read from the control socket") ;
  if (r <= 0)
  {
    if (w->verbosity >= 2) strerr_warn(PROG, ": info: the application declined TLS") ;
    _exit(0) ;
  }
  if (c != 'H' && nfds <= 2)
    for (unsigned int i = 0 ; i < nfds ; i++) close(fds[i]) ;
  switch (c)
  {
    case 'y' :
      close(ctl) ;
      wrapper_exec_engine(w, app, -1, fdr, fdw, envp) ;
    case 'H' :
      /* The direct handoff: the engine relays with the application's own
         descriptors (e.g. its backend's pipes) instead of ours. */
      if (nfds != 2) strerr_dief(UST_EXIT_USAGE, "invalid handoff from the application: 'H' needs exactly two descriptors") ;
      if (dup2(fds[0], fdr) < 0 || dup2(fds[1], fdw) < 0) strerr_diefsys(UST_EXIT_SYS, "dup2") ;
      close(fds[0]) ; close(fds[1]) ;
      if (w->verbosity >= 2) strerr_warn(PROG, ": info: direct handoff: the engine takes the application's descriptors") ;
      /* the info block goes to the control socket, as for 'Y' */
      /* fall through */
    case 'Y' :
      if (uncoe(ctl) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
      wrapper_exec_engine(w, app, ctl, fdr, fdw, envp) ;
    default :
    {
      static char const hex[] = "0123456789abcdef" ;
      char code[3] = { hex[(unsigned char)c >> 4], hex[(unsigned char)c & 15], 0 } ;
      strerr_dief(UST_EXIT_USAGE, "invalid command from the application on the control socket: byte 0x", code) ;
    }
  }
}

void wrapper_controller_spawn (wrapper const *w, char const *const *envp, int fds[3])
{
  int toeng[2], fromeng[2], ctl[2], app ;
  pid_t pid ;
  if (pipecoe(toeng) < 0 || pipecoe(fromeng) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  if (ipc_pair_coe(ctl) < 0) strerr_diefsys(UST_EXIT_SYS, "socketpair") ;
  app = (int)getpid() ;  /* the application's, after our exec: known before the fork, never guessed after */
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (!pid)
  {
    close(toeng[1]) ; close(fromeng[0]) ; close(ctl[0]) ;
    if (uncoe(toeng[0]) < 0 || uncoe(fromeng[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
    await_command(w, app, ctl[1], toeng[0], fromeng[1], envp) ;
  }
  close(toeng[0]) ; close(fromeng[1]) ; close(ctl[1]) ;
  if (uncoe(ctl[0]) < 0 || uncoe(fromeng[0]) < 0 || uncoe(toeng[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
  fds[0] = ctl[0] ; fds[1] = fromeng[0] ; fds[2] = toeng[1] ;
}

void wrapper_controller_vars (int const fds[3], char vars[3][32], char const *extra[5])
{
  static char const *const names[3] = { "SSLCTLFD=", "SSLREADFD=", "SSLWRITEFD=" } ;
  for (unsigned int i = 0 ; i < 3 ; i++)
  {
    size_t n = strlen(names[i]) ;
    memcpy(vars[i], names[i], n) ;
    vars[i][n + uint_fmt(vars[i] + n, (unsigned int)fds[i])] = 0 ;
    extra[i] = vars[i] ;
  }
  extra[3] = "SSLHANDOFF=1" ;
  extra[4] = 0 ;
}

int wrapper_controller_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role)
{
  wrapper w ;
  int fds[3] ;
  char vars[3][32] ;
  char const *extra[5] ;
  int i = wrapper_options(&w, argc, argv, role, role == TLSCONF_SERVER ? SERVER_USAGE : CLIENT_USAGE) ;
  {
    /* the policy is known now: a bad value fails here, not at the first STARTTLS */
    tlsconf policy ;
    char const *why ;
    policy.role = role ;
    if (tlsconf_policy_from_env(&policy, envp, &why) < 0) strerr_dief(UST_EXIT_USAGE, "bad TLS environment: ", why) ;
    if (policy.sessioncache || policy.sessionfile)
    {
      char const *file = policy.sessioncache ? policy.sessioncache : policy.sessionfile ;
      int fd = ust_secret_file_open(file, &why) ;
      if (fd < 0) strerr_dief(UST_EXIT_USAGE, "bad TLS environment: ", policy.sessioncache ? "SESSIONCACHE " : "SESSIONFILE ", file, ": ", why) ;
      close(fd) ;
    }
  }
  wrapper_controller_spawn(&w, envp, fds) ;
  wrapper_controller_vars(fds, vars, extra) ;
  wrapper_exec_prog(&w, argv + i, envp, extra) ;
}

/* wrapper_controller.c: ucspitlsd and ucspitlsc, the UCSPI-TLS controllers (DESIGN.md §3). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "wrapper.h"

#define SERVER_USAGE "ucspitlsd [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k snilevel ] [ -t ms ] [ -v n ] [ -- ] prog..."
#define CLIENT_USAGE "ucspitlsc [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k servername ] [ -t ms ] [ -6 fd ] [ -7 fd ] [ -v n ] [ -- ] prog..."

/* The controller child: waits for the application's one command byte. */
static void await_command (wrapper const *w, int ctl, int fdr, int fdw, char const *const *envp)
{
  char c ;
  ssize_t r ;
  do r = read(ctl, &c, 1) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0 && errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "read from the control socket") ;
  if (r <= 0)
  {
    if (w->verbosity >= 2) strerr_warn(PROG, ": info: the application declined TLS") ;
    _exit(0) ;
  }
  switch (c)
  {
    case 'y' :
      close(ctl) ;
      wrapper_exec_engine(w, -1, fdr, fdw, envp) ;
    case 'Y' :
      if (uncoe(ctl) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
      wrapper_exec_engine(w, ctl, fdr, fdw, envp) ;
    default :
    {
      static char const hex[] = "0123456789abcdef" ;
      char code[3] = { hex[(unsigned char)c >> 4], hex[(unsigned char)c & 15], 0 } ;
      strerr_dief(UST_EXIT_USAGE, "invalid command from the application on the control socket: byte 0x", code) ;
    }
  }
}

int wrapper_controller_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role)
{
  wrapper w ;
  int toeng[2], fromeng[2], ctl[2] ;
  int i = wrapper_options(&w, argc, argv, role, role == TLSCONF_SERVER ? SERVER_USAGE : CLIENT_USAGE) ;
  pid_t pid ;
  if (pipecoe(toeng) < 0 || pipecoe(fromeng) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  if (ipc_pair_coe(ctl) < 0) strerr_diefsys(UST_EXIT_SYS, "socketpair") ;
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (!pid)
  {
    close(toeng[1]) ; close(fromeng[0]) ; close(ctl[0]) ;
    if (uncoe(toeng[0]) < 0 || uncoe(fromeng[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
    await_command(&w, ctl[1], toeng[0], fromeng[1], envp) ;
  }
  close(toeng[0]) ; close(fromeng[1]) ; close(ctl[1]) ;
  if (uncoe(ctl[0]) < 0 || uncoe(fromeng[0]) < 0 || uncoe(toeng[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
  {
    char vars[3][32] ;
    char const *extra[4] = { vars[0], vars[1], vars[2], 0 } ;
    size_t n ;
    n = 9 ; memcpy(vars[0], "SSLCTLFD=", n) ; vars[0][n + uint_fmt(vars[0] + n, (unsigned int)ctl[0])] = 0 ;
    n = 10 ; memcpy(vars[1], "SSLREADFD=", n) ; vars[1][n + uint_fmt(vars[1] + n, (unsigned int)fromeng[0])] = 0 ;
    n = 11 ; memcpy(vars[2], "SSLWRITEFD=", n) ; vars[2][n + uint_fmt(vars[2] + n, (unsigned int)toeng[1])] = 0 ;
    wrapper_exec_prog(&w, argv + i, envp, extra) ;
  }
}

/* wrapper_immediate.c: tlsd and tlsc: handshake first, then exec the application over pipes. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
#include "tlsinfo.h"
#include "ucspitls.h"
#include "wrapper.h"

#define SERVER_USAGE "tlsd [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k snilevel ] [ -t ms ] [ -L ms ] [ -g ms ] [ -v n ] [ -- ] prog..."
#define CLIENT_USAGE "tlsc [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -Z | -z ] [ -K ms ] [ -k servername ] [ -t ms ] [ -L ms ] [ -6 fd ] [ -7 fd ] [ -v n ] [ -- ] prog..."

/* The engine failed: report its exit code as ours. */
static void die_like_engine (pid_t pid)
{
  int wstat ;
  while (waitpid(pid, &wstat, 0) < 0)
    if (errno != EINTR) strerr_diefsys(UST_EXIT_SYS, "wait for the engine") ;
  if (WIFEXITED(wstat) && WEXITSTATUS(wstat)) _exit(WEXITSTATUS(wstat)) ;
  strerr_dief(UST_EXIT_TLS, "TLS handshake failed") ;
}

/* Writes "name=value" into buf (large enough) and points *slot at it, for a known value.
   Returns 1 if an entry was made, 0 for an unknown (empty) value. */
static unsigned int envvar (char *buf, char const *name, char const *value, char const **slot)
{
  size_t n = strlen(name), v = strlen(value) ;
  if (!v) return 0 ;
  memcpy(buf, name, n) ;
  buf[n] = '=' ;
  memcpy(buf + n + 1, value, v + 1) ;
  *slot = buf ;
  return 1 ;
}

int wrapper_immediate_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role)
{
  wrapper w ;
  int toeng[2], fromeng[2], notif[2] ;
  int i = wrapper_options(&w, argc, argv, role, role == TLSCONF_SERVER ? SERVER_USAGE : CLIENT_USAGE) ;
  pid_t pid ;
  int app = (int)getpid() ;  /* prog's, after our exec */
  if (pipecoe(toeng) < 0 || pipecoe(fromeng) < 0 || pipecoe(notif) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (!pid)
  {
    if (uncoe(toeng[0]) < 0 || uncoe(fromeng[1]) < 0 || uncoe(notif[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
    wrapper_exec_engine(&w, app, notif[1], toeng[0], fromeng[1], envp) ;
  }
  close(toeng[0]) ; close(fromeng[1]) ; close(notif[1]) ;
  {
    /* The engine enforces the handshake deadline and closes notif when it
       exits, so EOF always comes: no second timer here. */
    tlsinfo info ;
    char vars[5][sizeof(info.peer_cert_subject) + 32] ;
    char const *extra[6] ;
    unsigned int n = 0 ;
    if (ucspitls_read_info(notif[0], &info, 0) < 0)
    {
      if (errno == EPIPE) die_like_engine(pid) ;
      strerr_diefsys(UST_EXIT_TLS, "read the TLS session information") ;
    }
    close(notif[0]) ;
    n += envvar(vars[n], "SSL_PROTOCOL", info.protocol, extra + n) ;
    n += envvar(vars[n], "SSL_CIPHER", info.cipher, extra + n) ;
    n += envvar(vars[n], "SSL_TLS_SNI_SERVERNAME", info.sni, extra + n) ;
    n += envvar(vars[n], "SSL_PEER_CERT_HASH", info.peer_cert_hash, extra + n) ;
    n += envvar(vars[n], "SSL_PEER_CERT_SUBJECT", info.peer_cert_subject, extra + n) ;
    extra[n] = 0 ;
    /* prog talks to the engine only: the network descriptors are replaced by the pipes. */
    if (fd_move2(role == TLSCONF_SERVER ? 0 : w.netr, fromeng[0], role == TLSCONF_SERVER ? 1 : w.netw, toeng[1]) < 0)
      strerr_diefsys(UST_EXIT_SYS, "move descriptors") ;
    wrapper_exec_prog(&w, argv + i, envp, extra) ;
  }
}

/* engine_main.c: option parsing, configuration and privilege drop shared by tlsd-io and tlsc-io. */
#include <errno.h>
#include <string.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "engine.h"
#include "exitcodes.h"
#include "tlsb.h"
#include "tlsconf.h"
#include "ust.h"

#define SERVER_USAGE "tlsd-io [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -K ms ] [ -k snilevel ] [ -t ms ] [ -L ms ] [ -g ms ] [ -d notif ] [ -v n ] [ -- ] fdr fdw"
#define CLIENT_USAGE "tlsc-io [ -S | -s ] [ -J | -j ] [ -Y | -y ] [ -K ms ] [ -k servername ] [ -t ms ] [ -L ms ] [ -d notif ] [ -6 netr ] [ -7 netw ] [ -v n ] [ -- ] fdr fdw"

static char const *usage_text ;

static void usage (void)
{
  strerr_dief(UST_EXIT_USAGE, "usage: ", usage_text) ;
}

int engine_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role)
{
  engine_opts o = ENGINE_OPTS_ZERO ;
  tlsconf conf = { .role = role, .clientcert = TLSCONF_CLIENTCERT_NONE, .snilevel = TLSCONF_SNILEVEL_DEFAULT } ;
  int netr = role == TLSCONF_SERVER ? 0 : 6, netw = role == TLSCONF_SERVER ? 1 : 7 ;
  int appr, appw, e ;
  char const *why = 0 ;
  tlsb *s ;
  subgetopt l = SUBGETOPT_ZERO ;
  usage_text = role == TLSCONF_SERVER ? SERVER_USAGE : CLIENT_USAGE ;
  /* -S by default on the server: its application closes its output when the
     session is over (after SMTP 221, IMAP BYE, POP3 +OK), and the client then
     expects close_notify, as stunnel, nginx and Postfix send it. -s on the
     client: its application closing its output often still awaits replies
     (a script's last command), and a close_notify would end the session for
     a TLS 1.2 engine (BearSSL discards what comes after it). Either way a
     peer's own close_notify is answered with ours (engine_run). */
  o.close_notify_on_eof = role == TLSCONF_SERVER ;

  for (;;)
  {
    int opt = subgetopt_r(argc, argv, role == TLSCONF_SERVER ? "SsJjYyK:k:t:L:g:d:v:h" : "SsJjYyK:k:t:L:d:6:7:v:h", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'S' : o.close_notify_on_eof = 1 ; break ;
      case 's' : o.close_notify_on_eof = 0 ; break ;
      case 'J' : o.strict_eof = 1 ; break ;
      case 'j' : o.strict_eof = 0 ; break ;
      case 'Y' : conf.clientcert = role == TLSCONF_SERVER ? TLSCONF_CLIENTCERT_OPTIONAL : TLSCONF_CLIENTCERT_NONE ; break ;
      case 'y' : conf.clientcert = TLSCONF_CLIENTCERT_REQUIRED ; break ;
      case 'K' : o.handshake_ms = ust_uint_opt(l.arg, "-K") ; break ;
      case 't' : o.idle_ms = ust_uint_opt(l.arg, "-t") ; break ;
      case 'L' : o.lifetime_ms = ust_uint_opt(l.arg, "-L") ; break ;
      case 'g' : o.grace_ms = ust_uint_opt(l.arg, "-g") ; break ;
      case 'k' :
        if (role == TLSCONF_SERVER) conf.snilevel = ust_uint_opt(l.arg, "-k snilevel") ;
        else conf.servername = l.arg[0] ? l.arg : 0 ;
        break ;
      case 'd' : o.notif = ust_fd_opt(l.arg, "-d") ; break ;
      case '6' : netr = ust_fd_opt(l.arg, "-6") ; break ;
      case '7' : netw = ust_fd_opt(l.arg, "-7") ; break ;
      case 'v' : o.verbosity = ust_uint_opt(l.arg, "-v") ; break ;
      default : usage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc != 2) usage() ;
  if (conf.servername && strlen(conf.servername) > TLSB_SERVERNAME_MAX)
    strerr_dief(UST_EXIT_USAGE, "-k servername: a server name is at most 255 bytes") ;
  appr = ust_fd_opt(argv[0], "fdr") ;
  appw = ust_fd_opt(argv[1], "fdw") ;

  if (tlsconf_from_env(&conf, envp, &why) < 0) strerr_dief(UST_EXIT_USAGE, "bad TLS environment: ", why) ;
  e = tlsb_new(&s, &conf, netr, netw, &why) ;
  if (e) strerr_dief(e, e == UST_EXIT_TLSCONF ? "TLS configuration: " : "TLS setup: ", why) ;
  if (ust_drop_privileges(envp, &why) < 0)
  {
    if (errno == EINVAL && why) strerr_dief(UST_EXIT_USAGE, why) ;
    strerr_diefsys(UST_EXIT_SYS, "drop privileges to TLS_UID/TLS_GID") ;
  }
  e = engine_run(s, &o, appr, appw, netr, netw) ;
  tlsb_free(s) ;
  return e ;
}

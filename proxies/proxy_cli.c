/* proxy_cli.c: the command line every proxy program shares. */
#include <string.h>
#include <unistd.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "proxy.h"
#include "tlsconf.h"
#include "ust.h"
#include "wrapper.h"

#define USAGE_TAIL " [ -T ] [ -d ] [ -C ] [ -t ms ] [ -g ms ] [ -l bytes ] [ -v n ] [ -- ] prog..."

/* -C: the proxy is its own UCSPI-TLS controller, as if started by
   `ucspitlsd` with its defaults: one program start less per session. The
   controller child gets envp (the engine needs the TLS variables); the
   proxy and its backend get envp without them, plus the SSL* descriptors. */
static int own_controller (proxy_protocol const *proto, proxy_options const *o, char const *const *argv, char const *const *envp)
{
  wrapper w ;
  tlsconf conf ;
  char const *why ;
  int fds[3] ;
  char vars[3][32] ;
  char const *extra[5] ;
  char vbuf[UINT_FMT] ;
  size_t n = 0 ;
  if (ust_getenv(envp, "SSLCTLFD")) strerr_dief(UST_EXIT_USAGE, "-C: already under a UCSPI-TLS controller (SSLCTLFD is set)") ;
  memset(&conf, 0, sizeof(conf)) ;
  conf.role = TLSCONF_SERVER ;
  conf.snilevel = TLSCONF_SNILEVEL_DEFAULT ;  /* the engine's, which -C runs with */
  /* What can be told without a TLS library is refused now, not after a
     220: the variables, the files' presence and PEM labels. A key that
     does not match its certificate, or a corrupt one, only the engine
     can tell (exit 98 at STARTTLS). */
  if (tlsconf_from_env(&conf, envp, &why) < 0) strerr_dief(UST_EXIT_USAGE, "-C: bad TLS environment: ", why) ;
  if (tlsconf_check_files(&conf, &why) < 0) strerr_dief(UST_EXIT_USAGE, "-C: not a PEM certificate or private key, or unreadable: ", why) ;
  if (conf.sessioncache)
  {
    int fd = ust_secret_file_open(conf.sessioncache, &why) ;
    if (fd < 0) strerr_dief(UST_EXIT_USAGE, "-C: bad TLS environment: SESSIONCACHE ", conf.sessioncache, ": ", why) ;
    close(fd) ;
  }
  wrapper_defaults(&w, TLSCONF_SERVER) ;
  w.verbosity = o->verbosity ;
  w.grace_ms = o->grace_ms ;
  if (o->verbosity != 1)
  {
    vbuf[uint_fmt(vbuf, o->verbosity)] = 0 ;
    w.engine_args[w.nengine_args++] = "-v" ;
    w.engine_args[w.nengine_args++] = vbuf ;
  }
  wrapper_controller_spawn(&w, envp, fds) ;
  wrapper_controller_vars(fds, vars, extra) ;
  while (envp[n]) n++ ;
  {
    /* what ucspitlsd would give the proxy it execs */
    char const *env[n + 5] ;
    if (wrapper_prog_env(&w, envp, extra, env, n + 5) < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
    return proxy_main(proto, o, argv, env) ;
  }
}

int proxy_cli_main (proxy_program const *prog, int argc, char const *const *argv, char const *const *envp)
{
  proxy_options o = { .idle_ms = prog->idle_ms, .grace_ms = UST_END_GRACE_MS, .verbosity = 1, .require_tls = 0 } ;
  proxy_protocol proto ;
  unsigned int line_max = prog->line_max ;
  subgetopt l = SUBGETOPT_ZERO ;
  int controller = 0 ;
  PROG = prog->name ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "TdCt:g:l:v:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'T' : o.require_tls = 1 ; break ;
      case 'd' : o.stay = 1 ; break ;
      case 'C' : controller = 1 ; break ;
      case 't' : o.idle_ms = ust_uint_opt(l.arg, "-t") ; break ;
      case 'g' : o.grace_ms = ust_uint_opt(l.arg, "-g") ; break ;
      case 'l' :
      {
        char min[UINT_FMT] ;
        line_max = ust_uint_opt(l.arg, "-l") ;
        min[uint_fmt(min, prog->line_min)] = 0 ;
        if (line_max < prog->line_min || line_max > 60000) strerr_dief(UST_EXIT_USAGE, "-l must be between ", min, " and 60000") ;
        break ;
      }
      case 'v' : o.verbosity = ust_uint_opt(l.arg, "-v") ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", prog->name, USAGE_TAIL) ;
    }
  }
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", prog->name, USAGE_TAIL) ;
  prog->protocol(&proto, line_max) ;
  if (controller) return own_controller(&proto, &o, argv + l.ind, envp) ;
  return proxy_main(&proto, &o, argv + l.ind, envp) ;
}

/* proxy_cli.c: the command line every proxy program shares. */
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "proxy.h"
#include "ust.h"

static unsigned int uint_arg (char const *s, char const *opt)
{
  unsigned int u ;
  if (!ust_uint(s, &u)) strerr_dief(UST_EXIT_USAGE, opt, " must be a non-negative integer, not: ", s) ;
  return u ;
}

int proxy_cli_main (proxy_program const *prog, int argc, char const *const *argv, char const *const *envp)
{
  proxy_options o = { .idle_ms = prog->idle_ms, .verbosity = 1, .require_tls = 0 } ;
  proxy_protocol proto ;
  unsigned int line_max = prog->line_max ;
  subgetopt l = SUBGETOPT_ZERO ;
  PROG = prog->name ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "Tdt:l:v:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'T' : o.require_tls = 1 ; break ;
      case 'd' : o.stay = 1 ; break ;
      case 't' : o.idle_ms = uint_arg(l.arg, "-t") ; break ;
      case 'l' :
      {
        char min[UINT_FMT] ;
        line_max = uint_arg(l.arg, "-l") ;
        min[uint_fmt(min, prog->line_min)] = 0 ;
        if (line_max < prog->line_min || line_max > 60000) strerr_dief(UST_EXIT_USAGE, "-l must be between ", min, " and 60000") ;
        break ;
      }
      case 'v' : o.verbosity = uint_arg(l.arg, "-v") ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", prog->name, " [ -T ] [ -d ] [ -t ms ] [ -l bytes ] [ -v n ] [ -- ] prog...") ;
    }
  }
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", prog->name, " [ -T ] [ -d ] [ -t ms ] [ -l bytes ] [ -v n ] [ -- ] prog...") ;
  prog->protocol(&proto, line_max) ;
  return proxy_main(&proto, &o, argv + l.ind, envp) ;
}

/* check_options.c: the options of ucspitls-check. */
#include <string.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "check.h"
#include "engine.h"
#include "exitcodes.h"
#include "ust.h"

int check_options_parse (check_options *o, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  o->keep_tls_vars = 0 ;
  o->block = CHECK_BLOCK_ENGINE ;
  o->bound_ms = CHECK_BOUND_MS_DEFAULT ;
  o->handshake_ms = ENGINE_HANDSHAKE_MS_DEFAULT ;
  o->output = 0 ;
  o->verbosity = 1 ;
  o->controller = o->client = o->leave_blocking = 0 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "Zzb:t:K:o:v:acn", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'Z' : o->keep_tls_vars = 1 ; break ;
      case 'z' : o->keep_tls_vars = 0 ; break ;
      case 'b' :
        if (!strcmp(l.arg, "engine")) o->block = CHECK_BLOCK_ENGINE ;
        else if (!strcmp(l.arg, "bare")) o->block = CHECK_BLOCK_BARE ;
        else if (!strcmp(l.arg, "max")) o->block = CHECK_BLOCK_MAX ;
        else strerr_dief(UST_EXIT_USAGE, "-b must be engine, bare or max, not: ", l.arg) ;
        break ;
      case 't' : o->bound_ms = ust_uint_opt(l.arg, "-t") ; if (!o->bound_ms) strerr_dief(UST_EXIT_USAGE, "-t must be positive") ; break ;
      case 'K' : o->handshake_ms = ust_uint_opt(l.arg, "-K") ; break ;
      case 'o' : o->output = l.arg ; break ;
      case 'v' : o->verbosity = ust_uint_opt(l.arg, "-v") ; break ;
      case 'a' : o->controller = 1 ; break ;
      case 'c' : o->client = 1 ; break ;
      case 'n' : o->leave_blocking = 1 ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", CHECK_USAGE) ;
    }
  }
  if (o->controller)
  {
    /* controller mode is the application itself: nothing to run */
    if (l.ind < argc) strerr_dief(UST_EXIT_USAGE, "-a runs no program; usage: ", CHECK_USAGE) ;
    return l.ind ;
  }
  if (o->client || o->leave_blocking) strerr_dief(UST_EXIT_USAGE, "-c and -n go with -a; usage: ", CHECK_USAGE) ;
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", CHECK_USAGE) ;
  return l.ind ;
}

/* wrapper_options.c: the options of tlsd, tlsc, ucspitlsd and ucspitlsc. */
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "engine.h"
#include "exitcodes.h"
#include "ust.h"
#include "wrapper.h"

static void add (wrapper *w, char const *a, char const *usage)
{
  if (w->nengine_args >= WRAPPER_ENGINE_ARGS_MAX - 8) strerr_dief(UST_EXIT_USAGE, "too many options; usage: ", usage) ;
  w->engine_args[w->nengine_args++] = a ;
}

void wrapper_defaults (wrapper *w, tlsconf_role role)
{
  w->role = role ;
  w->nengine_args = 0 ;
  w->keep_tls_vars = 0 ;
  w->netr = role == TLSCONF_SERVER ? 0 : 6 ;
  w->netw = role == TLSCONF_SERVER ? 1 : 7 ;
  w->handshake_ms = ENGINE_HANDSHAKE_MS_DEFAULT ;
  w->verbosity = 1 ;
  w->grace_ms = UST_END_GRACE_MS ;
}

int wrapper_options (wrapper *w, int argc, char const *const *argv, tlsconf_role role, char const *usage)
{
  subgetopt l = SUBGETOPT_ZERO ;
  wrapper_defaults(w, role) ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, role == TLSCONF_SERVER ? "SsJjYyZzK:k:t:L:g:v:h" : "SsJjYyZzK:k:t:L:v:6:7:h", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'S' : add(w, "-S", usage) ; break ;
      case 's' : add(w, "-s", usage) ; break ;
      case 'J' : add(w, "-J", usage) ; break ;
      case 'j' : add(w, "-j", usage) ; break ;
      case 'Y' : add(w, "-Y", usage) ; break ;
      case 'y' : add(w, "-y", usage) ; break ;
      case 'Z' : w->keep_tls_vars = 1 ; break ;
      case 'z' : w->keep_tls_vars = 0 ; break ;
      case 'K' : w->handshake_ms = ust_uint_opt(l.arg, "-K") ; add(w, "-K", usage) ; add(w, l.arg, usage) ; break ;
      case 't' : ust_uint_opt(l.arg, "-t") ; add(w, "-t", usage) ; add(w, l.arg, usage) ; break ;
      case 'L' : ust_uint_opt(l.arg, "-L") ; add(w, "-L", usage) ; add(w, l.arg, usage) ; break ;
      case 'k' :
        if (role == TLSCONF_SERVER) ust_uint_opt(l.arg, "-k snilevel") ;
        add(w, "-k", usage) ; add(w, l.arg, usage) ; break ;
      case 'g' : w->grace_ms = ust_uint_opt(l.arg, "-g") ; break ;
      case 'v' : w->verbosity = ust_uint_opt(l.arg, "-v") ; add(w, "-v", usage) ; add(w, l.arg, usage) ; break ;
      case '6' : w->netr = ust_fd_opt(l.arg, "-6") ; break ;
      case '7' : w->netw = ust_fd_opt(l.arg, "-7") ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", usage) ;
    }
  }
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", usage) ;
  return l.ind ;
}

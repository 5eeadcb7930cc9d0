/* pop3d-starttls.c: STLS for any plaintext POP3 server, under a UCSPI-TLS controller. */
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "exitcodes.h"
#include "proxy.h"
#include "pop3.h"
#include "ust.h"

#define USAGE "pop3d-starttls [ -T ] [ -t ms ] [ -l bytes ] [ -v n ] [ -- ] prog..."

static unsigned int uint_arg (char const *s, char const *opt)
{
  unsigned int u ;
  if (!ust_uint(s, &u)) strerr_dief(UST_EXIT_USAGE, opt, " must be a non-negative integer, not: ", s) ;
  return u ;
}

int main (int argc, char const *const *argv, char const *const *envp)
{
  proxy_options o = { .idle_ms = 600000, .verbosity = 1, .require_tls = 0 } ;
  proxy_protocol proto ;
  unsigned int line_max = POP3_LINE_MAX_DEFAULT ;
  subgetopt l = SUBGETOPT_ZERO ;
  PROG = "pop3d-starttls" ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "Tt:l:v:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'T' : o.require_tls = 1 ; break ;
      case 't' : o.idle_ms = uint_arg(l.arg, "-t") ; break ;
      case 'l' :
        line_max = uint_arg(l.arg, "-l") ;
        if (line_max < 255 || line_max > 60000) strerr_dief(UST_EXIT_USAGE, "-l must be between 255 and 60000") ;
        break ;
      case 'v' : o.verbosity = uint_arg(l.arg, "-v") ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", USAGE) ;
    }
  }
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", USAGE) ;
  pop3_protocol(&proto, line_max) ;
  return proxy_main(&proto, &o, argv + l.ind, envp) ;
}

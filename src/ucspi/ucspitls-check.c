/* ucspitls-check.c: checks a UCSPI-TLS application, run where its controller would be,
   or with -a a controller, run as its application. */
#include <skalibs/strerr.h>
#include "check.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  check_options o ;
  int i ;
  PROG = "ucspitls-check" ;
  i = check_options_parse(&o, argc, argv) ;
  return o.controller ? check_ctl_main(&o, envp) : check_app_main(&o, argv + i, envp) ;
}

/* ucspitlsd.c: UCSPI-TLS controller, server side: prog may start TLS on fds 0/1 through SSLCTLFD. */
#include <skalibs/strerr.h>
#include "wrapper.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "ucspitlsd" ;
  return wrapper_controller_main(argc, argv, envp, TLSCONF_SERVER) ;
}

/* ucspitlsc.c: UCSPI-TLS controller, client side: prog may start TLS on fds 6/7 through SSLCTLFD. */
#include <skalibs/strerr.h>
#include "wrapper.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "ucspitlsc" ;
  return wrapper_controller_main(argc, argv, envp, TLSCONF_CLIENT) ;
}

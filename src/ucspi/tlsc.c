/* tlsc.c: immediate TLS, client side: handshake on fds 6/7, then exec prog talking cleartext over pipes. */
#include <skalibs/strerr.h>
#include "wrapper.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "tlsc" ;
  return wrapper_immediate_main(argc, argv, envp, TLSCONF_CLIENT) ;
}

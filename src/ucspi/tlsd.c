/* tlsd.c: immediate TLS, server side: handshake on fds 0/1, then exec prog talking cleartext over pipes. */
#include <skalibs/strerr.h>
#include "wrapper.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "tlsd" ;
  return wrapper_immediate_main(argc, argv, envp, TLSCONF_SERVER) ;
}

/* tlsc-io.c: the client-side TLS engine: handshake on the network fds, then a full-duplex relay with the application. */
#include <skalibs/strerr.h>
#include "engine.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "tlsc-io" ;
  return engine_main(argc, argv, envp, TLSCONF_CLIENT) ;
}

/* tlsd-io.c: the server-side TLS engine: handshake on the network fds, then a full-duplex relay with the application. */
#include <skalibs/strerr.h>
#include "engine.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "tlsd-io" ;
  return engine_main(argc, argv, envp, TLSCONF_SERVER) ;
}

/* proxy-header.c: UCSPI: read the balancer's PROXY header (v1 or v2) on fd 0, then exec prog with the client's addresses. */
#include <skalibs/strerr.h>
#include "proxyhdr.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  PROG = "proxy-header" ;
  return proxyhdr_main(argc, argv, envp) ;
}

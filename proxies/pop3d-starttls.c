/* pop3d-starttls.c: STLS for any plaintext POP3 server, under a UCSPI-TLS controller. */
#include "proxy.h"
#include "pop3.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  static proxy_program const prog =
  {
    .name = "pop3d-starttls",
    .idle_ms = 600000,
    .line_max = POP3_LINE_MAX_DEFAULT,
    .line_min = 255,
    .protocol = pop3_protocol
  } ;
  return proxy_cli_main(&prog, argc, argv, envp) ;
}

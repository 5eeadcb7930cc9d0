/* imapd-starttls.c: STARTTLS for any plaintext IMAP server, under a UCSPI-TLS controller. */
#include "proxy.h"
#include "imap.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  static proxy_program const prog =
  {
    .name = "imapd-starttls",
    .idle_ms = 1800000,
    .line_max = IMAP_LINE_MAX_DEFAULT,
    .line_min = 1024,
    .protocol = imap_protocol
  } ;
  return proxy_cli_main(&prog, argc, argv, envp) ;
}

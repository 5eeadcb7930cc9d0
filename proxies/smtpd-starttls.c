/* smtpd-starttls.c: STARTTLS for any plaintext SMTP server, under a UCSPI-TLS controller. */
#include "proxy.h"
#include "smtp.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  static proxy_program const prog =
  {
    .name = "smtpd-starttls",
    .idle_ms = 300000,
    .line_max = SMTP_LINE_MAX_DEFAULT,
    .line_min = 512,
    .protocol = smtp_protocol
  } ;
  return proxy_cli_main(&prog, argc, argv, envp) ;
}

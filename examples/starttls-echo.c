/* starttls-echo.c: the smallest useful UCSPI-TLS server: a line echo that
   upgrades to TLS when the client sends "STARTTLS". An example of libucspitls.

   Run it: tcpserver 127.0.0.1 4000 env CERTFILE=c.pem KEYFILE=k.pem ucspitlsd starttls-echo
   Try it: openssl s_client has no mode for this protocol; see tests/ucspitls.bats. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ucspitls.h"

extern char **environ ;

/* Reads one line (at most max-1 bytes) from fd, byte by byte: what follows
   the STARTTLS line must stay unread in the socket, for the TLS engine. */
static ssize_t getline_fd (int fd, char *line, size_t max)
{
  size_t n = 0 ;
  while (n + 1 < max)
  {
    ssize_t r = read(fd, line + n, 1) ;
    if (r <= 0) return r < 0 ? -1 : (ssize_t)n ;
    if (line[n++] == '\n') break ;
  }
  line[n] = 0 ;
  return (ssize_t)n ;
}

static int say (int fd, char const *s)
{
  size_t len = strlen(s) ;
  return write(fd, s, len) == (ssize_t)len ? 0 : -1 ;
}

int main (void)
{
  ucspitls u = UCSPITLS_ZERO ;
  int tls_possible = ucspitls_from_env(&u, (char const *const *)environ) == 0 ;
  int in = 0, out = 1 ;
  char line[1024] ;
  say(out, tls_possible ? "hello, STARTTLS available\r\n" : "hello, no TLS here\r\n") ;
  while (getline_fd(in, line, sizeof(line)) > 0)
  {
    if (!strncmp(line, "STARTTLS", 8) && in == 0 && tls_possible)
    {
      int const net[2] = { 0, 1 } ;
      tlsinfo info ;
      say(out, "ready\r\n") ;
      if (ucspitls_start(&u, net, 2, &info, 60000) < 0) return 98 ;  /* never back to cleartext */
      in = u.rfd ; out = u.wfd ;
      say(out, "tls: ") ; say(out, info.protocol) ; say(out, " ") ; say(out, info.cipher) ; say(out, "\r\n") ;
      continue ;
    }
    if (!strncmp(line, "QUIT", 4)) { say(out, "bye\r\n") ; break ; }
    say(out, line) ;
  }
  return 0 ;
}

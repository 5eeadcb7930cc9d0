/* tlsconf_check_files.c: are the configured certificate and key files there
   and PEM of the right kind? A check without a TLS library, for programs
   that must refuse a broken configuration at start rather than after their
   220 (the proxies' -C). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "tlsconf.h"

/* Does the file hold a PEM block whose label ends with label? */
static int pem_has (char const *file, char const *label)
{
  static char buf[65536] ;
  size_t n = 0, ln = strlen(label) ;
  ssize_t r ;
  int fd = open(file, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return 0 ;
  while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0) n += (size_t)r ;
  close(fd) ;
  buf[n] = 0 ;
  for (char *b = strstr(buf, "-----BEGIN ") ; b ; b = strstr(b + 1, "-----BEGIN "))
  {
    char *e = strstr(b + 11, "-----") ;
    if (e && (size_t)(e - b - 11) >= ln && !memcmp(e - ln, label, ln)) return 1 ;
  }
  return 0 ;
}

int tlsconf_check_files (tlsconf const *conf, char const **file)
{
  for (unsigned int i = 0 ; i < conf->nkeypairs ; i++)
  {
    if (!pem_has(conf->keypairs[i].certfile, "CERTIFICATE")) { *file = conf->keypairs[i].certfile ; return -1 ; }
    if (!pem_has(conf->keypairs[i].keyfile, "PRIVATE KEY")) { *file = conf->keypairs[i].keyfile ; return -1 ; }
  }
  return 0 ;
}

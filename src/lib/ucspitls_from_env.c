/* ucspitls_from_env.c: finds and checks the descriptors a UCSPI-TLS controller gave us. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "ucspitls.h"

static char const *getvar (char const *const *envp, char const *name)
{
  size_t len = strlen(name) ;
  for (; *envp ; envp++)
    if (!strncmp(*envp, name, len) && (*envp)[len] == '=') return *envp + len + 1 ;
  return 0 ;
}

/* Parses a descriptor number: decimal digits only, no sign, below 1<<20. */
static int parse_fd (char const *s)
{
  long n = 0 ;
  if (!*s) return -1 ;
  for (; *s ; s++)
  {
    if (*s < '0' || *s > '9') return -1 ;
    n = n * 10 + (*s - '0') ;
    if (n >= 1L << 20) return -1 ;
  }
  return (int)n ;
}

int ucspitls_from_env (ucspitls *u, char const *const *envp)
{
  char const *ctl = getvar(envp, "SSLCTLFD") ;
  char const *r = getvar(envp, "SSLREADFD") ;
  char const *w = getvar(envp, "SSLWRITEFD") ;
  int fds[3] ;
  if (!ctl || !r || !w) return (errno = ENOENT, -1) ;
  fds[0] = parse_fd(ctl) ; fds[1] = parse_fd(r) ; fds[2] = parse_fd(w) ;
  if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0
   || fds[0] == fds[1] || fds[0] == fds[2] || fds[1] == fds[2])
    return (errno = EINVAL, -1) ;
  for (unsigned int i = 0 ; i < 3 ; i++)
    if (fcntl(fds[i], F_GETFD) < 0) return (errno = EBADF, -1) ;
  u->ctl = fds[0] ; u->rfd = fds[1] ; u->wfd = fds[2] ;
  {
    char const *h = getvar(envp, "SSLHANDOFF") ;
    u->handoff = h && !strcmp(h, "1") ;
  }
  return 0 ;
}

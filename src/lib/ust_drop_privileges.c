/* ust_drop_privileges.c: the engine gives up root once its keys are in memory. */
#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include "ust.h"

int ust_drop_privileges (char const *const *envp)
{
  char const *g = ust_getenv(envp, "TLS_GID") ;
  char const *u = ust_getenv(envp, "TLS_UID") ;
  unsigned int gid, uid ;
  if (g && !*g) g = 0 ;  /* empty: unset, as a shell script's TLS_UID= means */
  if (u && !*u) u = 0 ;
  if (g && !ust_uint(g, &gid)) return (errno = EINVAL, -1) ;
  if (u && !ust_uint(u, &uid)) return (errno = EINVAL, -1) ;
  if (g)
  {
    gid_t gl = (gid_t)gid ;
    if (setgroups(1, &gl) < 0 && errno != EPERM) return -1 ;
    if (setgid(gl) < 0) return -1 ;
  }
  if (u && setuid((uid_t)uid) < 0) return -1 ;
  return 0 ;
}

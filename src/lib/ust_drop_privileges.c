/* ust_drop_privileges.c: the engine gives up root once its keys are in memory. */
#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include "ust.h"

int ust_drop_privileges (char const *const *envp, char const **why)
{
  char const *g = ust_getenv(envp, "TLS_GID") ;
  char const *u = ust_getenv(envp, "TLS_UID") ;
  unsigned int gid, uid ;
  if (g && !*g) g = 0 ;  /* empty: unset, as a shell script's TLS_UID= means */
  if (u && !*u) u = 0 ;
  *why = "TLS_UID and TLS_GID must be numbers" ;
  if (g && !ust_uint(g, &gid)) return (errno = EINVAL, -1) ;
  if (u && !ust_uint(u, &uid)) return (errno = EINVAL, -1) ;
  /* setuid alone would keep gid 0 and root's supplementary groups */
  *why = "TLS_UID is set but TLS_GID is not: the engine would keep root's groups" ;
  if (u && !g) return (errno = EINVAL, -1) ;
  *why = 0 ;
  if (g)
  {
    gid_t gl = (gid_t)gid ;
    /* only root has supplementary groups to drop, and then it must work */
    if (!geteuid() && setgroups(1, &gl) < 0) return -1 ;
    if (setgid(gl) < 0) return -1 ;
  }
  if (u && setuid((uid_t)uid) < 0) return -1 ;
  return 0 ;
}

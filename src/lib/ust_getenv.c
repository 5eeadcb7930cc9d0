/* ust_getenv.c: environment lookup in an explicit envp. */
#include <string.h>
#include "ust.h"

char const *ust_getenv (char const *const *envp, char const *name)
{
  size_t len = strlen(name) ;
  for (; *envp ; envp++)
    if (!strncmp(*envp, name, len) && (*envp)[len] == '=') return *envp + len + 1 ;
  return 0 ;
}

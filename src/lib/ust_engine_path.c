/* ust_engine_path.c: the engines live next to the controllers that exec them. */
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "ust.h"

int ust_engine_path (char const *name, char *buf, size_t max)
{
  size_t nlen = strlen(name) ;
  ssize_t r = readlink("/proc/self/exe", buf, max) ;
  if (r > 0 && (size_t)r < max)
  {
    char *slash ;
    buf[r] = 0 ;
    slash = strrchr(buf, '/') ;
    if (slash && (size_t)(slash - buf) + 1 + nlen < max)
    {
      memcpy(slash + 1, name, nlen + 1) ;
      if (!access(buf, X_OK)) return 0 ;
    }
  }
  if (strlen(UST_BINDIR) + 1 + nlen >= max) return -1 ;
  memcpy(buf, UST_BINDIR, strlen(UST_BINDIR)) ;
  buf[strlen(UST_BINDIR)] = '/' ;
  memcpy(buf + strlen(UST_BINDIR) + 1, name, nlen + 1) ;
  return 0 ;
}

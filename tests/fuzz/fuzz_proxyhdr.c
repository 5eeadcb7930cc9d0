/* fuzz_proxyhdr.c: libFuzzer target for the PROXY header parser (proxyhdr_parse): its verdicts and its read bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proxyhdr.h"

static void check_text (char const *s)
{
  if (!memchr(s, 0, PROXYHDR_IP_MAX)) abort() ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  proxyhdr h ;
  char const *why ;
  size_t len = 0 ;
  int r ;
  /* Read as proxy-header does: never more than the parser says is the header's. */
  for (;;)
  {
    r = proxyhdr_parse(data, len, &h, &why) ;
    if (r < 0) { if (!why || !*why) abort() ; return 0 ; }
    if (!r) break ;
    if ((size_t)r > PROXYHDR_MAX - len) abort() ;  /* a bound past any header */
    if (len == size) return 0 ;                   /* truncated */
    /* the fuzzer's bytes decide how much of the allowance one read gets */
    len += (size_t)r < size - len ? (size_t)(1 + data[len] % r) : size - len ;
  }
  /* A complete header: every shorter prefix was judged incomplete, with an
     allowance that ends at or before this header's end (no over-read). */
  for (size_t j = 0 ; j < len ; j++)
  {
    proxyhdr g ;
    int need = proxyhdr_parse(data, j, &g, &why) ;
    if (need <= 0 || j + (size_t)need > len) abort() ;
  }
  if (len > PROXYHDR_MAX || (h.version != 1 && h.version != 2)) abort() ;
  if (h.version == 1 && len > PROXYHDR_V1_MAX) abort() ;
  check_text(h.src_ip) ; check_text(h.dst_ip) ;
  if (h.src_port > 65535 || h.dst_port > 65535) abort() ;
  if (h.kind != PROXYHDR_LOCAL)
  {
    proxyhdr_addr a ;
    if (!proxyhdr_addr_scan(h.src_ip, &a) || !proxyhdr_addr_scan(h.dst_ip, &a)) abort() ;
  }
  /* The byte after the header is never part of it. */
  if (len < size && proxyhdr_parse(data, len + 1, &h, &why) != -1) abort() ;
  return 0 ;
}

/* unit-proxyhdr.c: unit tests of the PROXY header parser and the trusted address set (run by tests/proxyhdr.bats). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "proxyhdr.h"

static int failures = 0 ;

static void check (int ok, char const *what)
{
  if (!ok) { printf("FAIL: %s\n", what) ; failures++ ; }
}

/* Feeds s to the parser as a reader would (as much as it allows each time);
   returns the final verdict, *used the bytes taken. */
static int feed (unsigned char const *s, size_t n, proxyhdr *h, size_t *used, char const **why)
{
  size_t len = 0 ;
  for (;;)
  {
    int r = proxyhdr_parse(s, len, h, why) ;
    if (r <= 0) { *used = len ; return r ; }
    if (len == n) { *used = len ; return 1 ; }
    len += (size_t)r < n - len ? (size_t)r : n - len ;
  }
}

static int v1 (char const *s, proxyhdr *h)
{
  size_t used ;
  char const *why ;
  return feed((unsigned char const *)s, strlen(s), h, &used, &why) ;
}

static size_t v2 (unsigned char *out, unsigned int cmd, unsigned int fam, unsigned char const *body, size_t blen)
{
  static unsigned char const sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a } ;
  memcpy(out, sig, 12) ;
  out[12] = (unsigned char)(0x20 | cmd) ; out[13] = (unsigned char)fam ;
  out[14] = (unsigned char)(blen >> 8) ; out[15] = (unsigned char)blen ;
  if (blen) memcpy(out + 16, body, blen) ;
  return 16 + blen ;
}

static void test_v1 (void)
{
  proxyhdr h ;
  char const *why ;
  size_t used ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n", &h) == 0 && h.version == 1 && h.kind == PROXYHDR_TCP4
    && !strcmp(h.src_ip, "192.0.2.1") && !strcmp(h.dst_ip, "198.51.100.2") && h.src_port == 56324 && h.dst_port == 25, "v1 TCP4") ;
  check(v1("PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 0 65535\r\n", &h) == 0 && h.kind == PROXYHDR_TCP6
    && !strcmp(h.src_ip, "2001:db8::1") && h.src_port == 0 && h.dst_port == 65535, "v1 TCP6, canonical text") ;
  check(v1("PROXY UNKNOWN\r\n", &h) == 0 && h.kind == PROXYHDR_LOCAL, "v1 UNKNOWN") ;
  check(v1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &h) == 0 && h.kind == PROXYHDR_LOCAL, "v1 UNKNOWN with ignored fields") ;
  check(v1("PROXY UNKNOWNX\r\n", &h) == -1, "v1 UNKNOWNX") ;
  check(v1("PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", &h) == -1, "v1 two spaces") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n", &h) == -1, "v1 trailing space") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", &h) == -1, "v1 three fields") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n", &h) == -1, "v1 five fields") ;
  check(v1("PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n", &h) == -1, "v1 leading zero in an address") ;
  check(v1("PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", &h) == -1, "v1 TCP4 with an IPv6 address") ;
  check(v1("PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", &h) == -1, "v1 TCP6 with an IPv4 address") ;
  check(v1("PROXY TCP6 ::ffff:192.0.2.7 ::FFFF:c633:6402 1 2\r\n", &h) == 0 && h.kind == PROXYHDR_TCP6
    && !strcmp(h.src_ip, "192.0.2.7") && !strcmp(h.dst_ip, "198.51.100.2"), "v1 TCP6, IPv4-mapped: written as IPv4") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n", &h) == -1, "v1 leading zero in a port") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n", &h) == -1, "v1 port over 65535") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 +1 2\r\n", &h) == -1, "v1 signed port") ;
  check(v1("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n", &h) == -1, "v1 unknown protocol") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", &h) == -1, "v1 bare LF") ;
  check(v1("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX", &h) == -1, "v1 CR without LF") ;
  check(v1("proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n", &h) == -1, "v1 lower case") ;
  check(v1("EHLO x\r\n", &h) == -1, "a client that is not a balancer") ;
  {
    /* 107 bytes exactly, then 108 */
    char s[120] = "PROXY UNKNOWN " ;
    while (strlen(s) < 105) strcat(s, "x") ;
    strcat(s, "\r\n") ;
    check(strlen(s) == 107 && v1(s, &h) == 0, "v1 of 107 bytes") ;
    memmove(s + 15, s + 14, strlen(s + 14) + 1) ;
    check(strlen(s) == 108 && v1(s, &h) == -1, "v1 of 108 bytes") ;
  }
  {
    /* Never past the header: the glued bytes stay unread. */
    static char const glued[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\nEHLO x\r\n" ;
    check(feed((unsigned char const *)glued, sizeof(glued) - 1, &h, &used, &why) == 0 && used == sizeof(glued) - 1 - 8, "v1 stops at its CRLF") ;
    check(proxyhdr_parse((unsigned char const *)glued, 0, &h, &why) == 15, "the first read asks for the shortest header") ;
    check(proxyhdr_parse((unsigned char const *)glued, 15, &h, &why) == 2, "then for a CRLF at least") ;
    check(proxyhdr_parse((unsigned char const *)glued, 38, &h, &why) == 1, "after a CR, one byte") ;
  }
  check(proxyhdr_parse((unsigned char const *)"PROXY \r\nEHLO", 12, &h, &why) == -1, "v1 too short") ;
}

static void test_v2 (void)
{
  unsigned char b[PROXYHDR_MAX + 64], body[PROXYHDR_V2_LEN_MAX + 8] ;
  proxyhdr h ;
  char const *why ;
  size_t n, used ;
  static unsigned char const a4[12] = { 192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0, 25 } ;
  unsigned char a6[36 + 7] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1, [16] = 0x20, 0x01, 0x0d, 0xb8, [31] = 2, [32] = 0xdc, 0x04, 0x03, 0xe1,
    /* a TLV: PP2_TYPE_ALPN "smtp" */ [36] = 0x01, 0, 4, 's', 'm', 't', 'p' } ;
  n = v2(b, 1, 0x11, a4, sizeof(a4)) ;
  check(feed(b, n, &h, &used, &why) == 0 && used == n && h.version == 2 && h.kind == PROXYHDR_TCP4
    && !strcmp(h.src_ip, "192.0.2.1") && !strcmp(h.dst_ip, "198.51.100.2") && h.src_port == 56324 && h.dst_port == 25, "v2 TCP4") ;
  check(proxyhdr_parse(b, 16, &h, &why) == 12, "v2 asks for its length") ;
  memcpy(b + n, "EHLO x\r\n", 8) ;
  check(feed(b, n + 8, &h, &used, &why) == 0 && used == n, "v2 stops at its length") ;
  check(proxyhdr_parse(b, n + 1, &h, &why) == -1, "v2 with a byte more is not a header") ;
  n = v2(b, 1, 0x21, a6, sizeof(a6)) ;
  check(feed(b, n, &h, &used, &why) == 0 && h.kind == PROXYHDR_TCP6 && !strcmp(h.src_ip, "2001:db8::1")
    && !strcmp(h.dst_ip, "2001:db8::2") && h.src_port == 56324 && h.dst_port == 993, "v2 TCP6 with a TLV") ;
  {
    unsigned char m6[36] ;
    memcpy(m6, a6, 36) ;
    memset(m6, 0, 10) ; m6[10] = m6[11] = 0xff ; m6[12] = 192 ; m6[13] = 0 ; m6[14] = 2 ; m6[15] = 9 ;
    n = v2(b, 1, 0x21, m6, sizeof(m6)) ;
    check(feed(b, n, &h, &used, &why) == 0 && h.kind == PROXYHDR_TCP6 && !strcmp(h.src_ip, "192.0.2.9")
      && !strcmp(h.dst_ip, "2001:db8::2"), "v2 TCP6, IPv4-mapped source: written as IPv4") ;
  }
  a6[38] = 5 ;  /* the TLV now runs past the end */
  n = v2(b, 1, 0x21, a6, sizeof(a6)) ;
  check(feed(b, n, &h, &used, &why) == -1, "v2 TLV past the end") ;
  n = v2(b, 0, 0x00, 0, 0) ;
  check(feed(b, n, &h, &used, &why) == 0 && h.kind == PROXYHDR_LOCAL, "v2 LOCAL") ;
  n = v2(b, 0, 0x11, a4, sizeof(a4)) ;
  check(feed(b, n, &h, &used, &why) == 0 && h.kind == PROXYHDR_LOCAL && used == n, "v2 LOCAL with addresses: skipped") ;
  n = v2(b, 1, 0x00, 0, 0) ;
  check(feed(b, n, &h, &used, &why) == 0 && h.kind == PROXYHDR_LOCAL, "v2 PROXY AF_UNSPEC") ;
  memset(body, 0, sizeof(body)) ;
  n = v2(b, 1, 0x31, body, 216) ;
  check(feed(b, n, &h, &used, &why) == -1 && used < 16, "v2 AF_UNIX refused at its family byte") ;
  n = v2(b, 1, 0x12, a4, sizeof(a4)) ;
  check(feed(b, n, &h, &used, &why) == -1, "v2 UDP refused") ;
  n = v2(b, 1, 0x11, a4, 8) ;
  check(feed(b, n, &h, &used, &why) == -1, "v2 too short for its addresses") ;
  n = v2(b, 2, 0x11, a4, sizeof(a4)) ;
  check(feed(b, n, &h, &used, &why) == -1 && used < 16, "v2 unknown command") ;
  n = v2(b, 1, 0x11, a4, sizeof(a4)) ;
  b[12] = 0x11 ;
  check(feed(b, n, &h, &used, &why) == -1, "v2 version 1 in the binary form") ;
  memcpy(body, a4, sizeof(a4)) ;
  body[12] = 0x04 ; body[13] = (PROXYHDR_V2_LEN_MAX - 15) >> 8 ; body[14] = (PROXYHDR_V2_LEN_MAX - 15) & 0xff ;  /* one PP2_TYPE_NOOP */
  n = v2(b, 1, 0x11, body, PROXYHDR_V2_LEN_MAX) ;
  check(feed(b, n, &h, &used, &why) == 0 && used == n, "v2 at the length bound (a NOOP TLV)") ;
  n = v2(b, 1, 0x11, body, PROXYHDR_V2_LEN_MAX + 1) ;
  check(feed(b, n, &h, &used, &why) == -1 && used == 16, "v2 over the length bound refused before its body is read") ;
  n = v2(b, 1, 0x11, a4, sizeof(a4)) ;
  b[7] = 'q' ;
  check(feed(b, n, &h, &used, &why) == -1 && used <= 15, "v2 wrong signature") ;
}

static void test_addr (void)
{
  proxyhdr_addr set[4] ;
  unsigned int n = 0 ;
  char const *bad ;
  check(proxyhdr_addr_list("10.0.0.5,2001:db8::5", set, &n, 4, &bad) && n == 2, "address list") ;
  check(proxyhdr_addr_trusted("10.0.0.5", set, n), "trusted IPv4") ;
  check(proxyhdr_addr_trusted("::ffff:10.0.0.5", set, n), "IPv4-mapped is IPv4") ;
  check(proxyhdr_addr_trusted("2001:DB8:0::5", set, n), "IPv6 compared as binary") ;
  check(!proxyhdr_addr_trusted("10.0.0.6", set, n) && !proxyhdr_addr_trusted("10.0.0.5x", set, n) && !proxyhdr_addr_trusted("", set, n), "untrusted") ;
  check(!proxyhdr_addr_list("10.0.0.6,nonsense", set, &n, 4, &bad) && bad && !strcmp(bad, "nonsense"), "bad item named") ;
  n = 0 ;
  check(!proxyhdr_addr_list("10.0.0.1,,10.0.0.2", set, &n, 4, &bad), "empty item") ;
  n = 0 ;
  check(!proxyhdr_addr_list("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5", set, &n, 4, &bad) && !bad, "full set") ;
}

int main (void)
{
  test_v1() ;
  test_v2() ;
  test_addr() ;
  if (failures) { printf("%d failure(s)\n", failures) ; return 1 ; }
  printf("all proxyhdr unit tests passed\n") ;
  return 0 ;
}

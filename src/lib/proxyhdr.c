/* proxyhdr.c: the PROXY protocol header parser (v1 text, v2 binary) and the trusted address set; pure functions. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "proxyhdr.h"

/* "PROXY UNKNOWN\r\n": no valid header of either version is shorter (v2 has 16 fixed bytes). */
#define V1_MIN 15
#define V2_FIXED 16

static char const v1_signature[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' } ;
static unsigned char const v2_signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a } ;

static int fail (char const **why, char const *what)
{
  *why = what ;
  return -1 ;
}

/* A v1 port: 0 to 65535 in decimal, no sign, no leading zero but "0" itself. */
static int v1_port (char const *s, size_t n, unsigned int *port)
{
  unsigned int v = 0 ;
  if (!n || n > 5 || (n > 1 && s[0] == '0')) return 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    v = v * 10 + (unsigned int)(s[i] - '0') ;
  }
  if (v > 65535) return 0 ;
  *port = v ;
  return 1 ;
}

/* The canonical text of an address: inet_ntop's, except that an IPv4-mapped
   IPv6 address (::ffff:a.b.c.d, a dual-stack balancer's IPv4 client) is
   written as the IPv4 address, as tcpserver would show that client. */
static void ip_text (int af, unsigned char const *bin, char *out)
{
  static unsigned char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } ;
  if (af == AF_INET6 && !memcmp(bin, mapped, 12)) { af = AF_INET ; bin += 12 ; }
  inet_ntop(af, bin, out, PROXYHDR_IP_MAX) ;
}

/* A v1 address of family af, n bytes at s, into its canonical text. */
static int v1_addr (char const *s, size_t n, int af, char *out)
{
  char tmp[PROXYHDR_IP_MAX] ;
  unsigned char bin[16] ;
  if (!n || n >= sizeof(tmp)) return 0 ;
  memcpy(tmp, s, n) ;
  tmp[n] = 0 ;
  if (inet_pton(af, tmp, bin) != 1) return 0 ;
  ip_text(af, bin, out) ;
  return 1 ;
}

/* The fields of a complete v1 line, s (n bytes) being what follows "PROXY "
   up to, not including, the CRLF: exactly one space between fields. */
static int v1_fields (char const *s, size_t n, proxyhdr *h, char const **why)
{
  char const *field[4] ;
  size_t flen[4] ;
  size_t i = 5, start ;
  int af ;
  if (n >= 7 && !memcmp(s, "UNKNOWN", 7) && (n == 7 || s[7] == ' '))
  {
    /* The specification: whatever follows UNKNOWN up to the CRLF is ignored. */
    h->kind = PROXYHDR_LOCAL ;
    return 0 ;
  }
  if (n < 5 || memcmp(s, "TCP", 3) || (s[3] != '4' && s[3] != '6') || s[4] != ' ')
    return fail(why, "v1: the protocol is not TCP4, TCP6 or UNKNOWN") ;
  af = s[3] == '4' ? AF_INET : AF_INET6 ;
  h->kind = af == AF_INET ? PROXYHDR_TCP4 : PROXYHDR_TCP6 ;
  for (unsigned int f = 0 ; f < 4 ; f++)
  {
    start = i ;
    while (i < n && s[i] != ' ') i++ ;
    field[f] = s + start ;
    flen[f] = i - start ;
    if (!flen[f]) return fail(why, "v1: an empty field (not exactly one space between fields)") ;
    if (f < 3)
    {
      if (i >= n) return fail(why, "v1: fewer than four fields after the protocol") ;
      i++ ;  /* the one space */
    }
  }
  if (i != n) return fail(why, "v1: more than four fields after the protocol") ;
  if (!v1_addr(field[0], flen[0], af, h->src_ip) || !v1_addr(field[1], flen[1], af, h->dst_ip))
    return fail(why, af == AF_INET ? "v1: an address is not a dotted-quad IPv4 address" : "v1: an address is not an IPv6 address") ;
  if (!v1_port(field[2], flen[2], &h->src_port) || !v1_port(field[3], flen[3], &h->dst_port))
    return fail(why, "v1: a port is not a number from 0 to 65535 without leading zeros") ;
  return 0 ;
}

static int v1 (unsigned char const *buf, size_t len, proxyhdr *h, char const **why)
{
  size_t need ;
  if (memcmp(buf, v1_signature, len < 6 ? len : 6)) return fail(why, "not a PROXY header (wrong v1 signature)") ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (buf[i] == '\r')
    {
      if (i + 1 == len) return len + 1 > PROXYHDR_V1_MAX ? fail(why, "v1: longer than 107 bytes") : 1 ;
      if (buf[i + 1] != '\n') return fail(why, "v1: a CR without LF") ;
      if (i + 2 < V1_MIN) return fail(why, "v1: the line ends before the protocol") ;
      if (i + 2 != len) return fail(why, "bytes after the header") ;  /* a reader that asks for what we say never has them */
      h->version = 1 ;
      return v1_fields((char const *)buf + 6, len - 8, h, why) ;
    }
    if (buf[i] < 0x20 || buf[i] > 0x7e) return fail(why, "v1: a byte that is not printable ASCII") ;
  }
  /* No CR yet: the CRLF is still to come, and the shortest header too. */
  need = len < V1_MIN - 2 ? V1_MIN - len : 2 ;
  if (len + need > PROXYHDR_V1_MAX) return fail(why, "v1: longer than 107 bytes") ;
  return (int)need ;
}

/* The TLVs of a v2 header, buf[off..end): each whole, none past the end. */
static int v2_tlvs (unsigned char const *buf, size_t off, size_t end)
{
  while (off < end)
  {
    size_t vlen ;
    if (end - off < 3) return 0 ;
    vlen = (size_t)buf[off + 1] << 8 | buf[off + 2] ;
    if (end - off - 3 < vlen) return 0 ;
    off += 3 + vlen ;
  }
  return 1 ;
}

static unsigned int be16 (unsigned char const *p) { return (unsigned int)p[0] << 8 | p[1] ; }

static int v2 (unsigned char const *buf, size_t len, proxyhdr *h, char const **why)
{
  size_t total, addrlen ;
  unsigned int command, family ;
  if (memcmp(buf, v2_signature, len < 12 ? len : 12)) return fail(why, "not a PROXY header (wrong v2 signature)") ;
  if (len > 12)
  {
    if (buf[12] >> 4 != 2) return fail(why, "v2: the version is not 2") ;
    command = buf[12] & 0x0f ;
    if (command > 1) return fail(why, "v2: the command is neither LOCAL nor PROXY") ;
  }
  if (len > 13 && (buf[12] & 0x0f) == 1)
  {
    /* PROXY: the family decides what the addresses are; LOCAL ignores it. */
    switch (buf[13])
    {
      case 0x00 : case 0x11 : case 0x21 : break ;
      case 0x12 : case 0x22 : return fail(why, "v2: a UDP connection (only TCP is proxied)") ;
      case 0x31 : case 0x32 : return fail(why, "v2: an AF_UNIX connection (only TCP is proxied)") ;
      default : return fail(why, "v2: an unknown address family or transport") ;
    }
  }
  if (len < V2_FIXED) return (int)(V2_FIXED - len) ;
  total = V2_FIXED + be16(buf + 14) ;
  if (total - V2_FIXED > PROXYHDR_V2_LEN_MAX) return fail(why, "v2: the length is over 1024 bytes") ;
  if (len < total) return (int)(total - len) ;
  if (len > total) return fail(why, "bytes after the header") ;
  h->version = 2 ;
  command = buf[12] & 0x0f ;
  family = buf[13] ;
  if (command == 0 || family == 0x00)
  {
    /* LOCAL (the balancer's own connection: health checks) or an
       unspecified family: the specification says to use the real
       endpoints and skip the whole block. */
    h->kind = PROXYHDR_LOCAL ;
    return 0 ;
  }
  addrlen = family == 0x11 ? 12 : 36 ;
  if (total - V2_FIXED < addrlen) return fail(why, "v2: the length is too short for the addresses") ;
  if (!v2_tlvs(buf, V2_FIXED + addrlen, total)) return fail(why, "v2: a TLV runs past the header's end") ;
  if (family == 0x11)
  {
    h->kind = PROXYHDR_TCP4 ;
    ip_text(AF_INET, buf + 16, h->src_ip) ;
    ip_text(AF_INET, buf + 20, h->dst_ip) ;
    h->src_port = be16(buf + 24) ;
    h->dst_port = be16(buf + 26) ;
  }
  else
  {
    h->kind = PROXYHDR_TCP6 ;
    ip_text(AF_INET6, buf + 16, h->src_ip) ;
    ip_text(AF_INET6, buf + 32, h->dst_ip) ;
    h->src_port = be16(buf + 48) ;
    h->dst_port = be16(buf + 50) ;
  }
  return 0 ;
}

int proxyhdr_parse (unsigned char const *buf, size_t len, proxyhdr *h, char const **why)
{
  memset(h, 0, sizeof(*h)) ;
  *why = "" ;
  if (len > PROXYHDR_MAX) return fail(why, "longer than any header") ;
  if (!len) return V1_MIN ;
  if (buf[0] == v1_signature[0]) return v1(buf, len, h, why) ;
  if (buf[0] == v2_signature[0]) return v2(buf, len, h, why) ;
  return fail(why, "not a PROXY header (neither signature)") ;
}

int proxyhdr_addr_scan (char const *s, proxyhdr_addr *a)
{
  static unsigned char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } ;
  memset(a, 0, sizeof(*a)) ;
  if (inet_pton(AF_INET, s, a->bytes) == 1) { a->family = AF_INET ; return 1 ; }
  if (inet_pton(AF_INET6, s, a->bytes) != 1) return 0 ;
  a->family = AF_INET6 ;
  if (!memcmp(a->bytes, mapped, 12))
  {
    memmove(a->bytes, a->bytes + 12, 4) ;
    memset(a->bytes + 4, 0, 12) ;
    a->family = AF_INET ;
  }
  return 1 ;
}

int proxyhdr_addr_list (char const *list, proxyhdr_addr *set, unsigned int *n, unsigned int max, char const **bad)
{
  char item[PROXYHDR_IP_MAX] ;
  char const *p = list ;
  for (;;)
  {
    size_t k = strcspn(p, ",") ;
    *bad = p ;
    if (k >= sizeof(item)) return 0 ;
    memcpy(item, p, k) ;
    item[k] = 0 ;
    if (*n >= max) { *bad = 0 ; return 0 ; }
    if (!proxyhdr_addr_scan(item, set + *n)) return 0 ;
    (*n)++ ;
    if (!p[k]) return 1 ;
    p += k + 1 ;
  }
}

int proxyhdr_addr_trusted (char const *ip, proxyhdr_addr const *set, unsigned int n)
{
  proxyhdr_addr a ;
  if (!proxyhdr_addr_scan(ip, &a)) return 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
    if (set[i].family == a.family && !memcmp(set[i].bytes, a.bytes, a.family == AF_INET ? 4 : 16)) return 1 ;
  return 0 ;
}

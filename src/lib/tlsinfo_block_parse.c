/* tlsinfo_block_parse.c: finds the end of an info block and reads its entries. */
#include <string.h>
#include <stddef.h>
#include "tlsinfo.h"

long tlsinfo_block_complete (char const *buf, size_t len)
{
  size_t start = 0 ;
  while (start < len)
  {
    char const *nul = memchr(buf + start, 0, len - start) ;
    size_t end ;
    if (!nul) return 0 ;
    end = nul - buf ;
    if (end == start) return (long)(end + 1) ;  /* empty entry: the terminator */
    if (buf[start] == '=') return -1 ;          /* a value with no name */
    start = end + 1 ;
  }
  return 0 ;
}

static void set (char *field, size_t size, char const *value, size_t len)
{
  if (len >= size) len = size - 1 ;
  memcpy(field, value, len) ;
  field[len] = 0 ;
}

int tlsinfo_block_parse (char const *buf, size_t len, tlsinfo *info)
{
  static struct { char const *name ; size_t off ; size_t size ; } const fields[] =
  {
    { "SSL_PROTOCOL", offsetof(tlsinfo, protocol), sizeof(((tlsinfo *)0)->protocol) },
    { "SSL_CIPHER", offsetof(tlsinfo, cipher), sizeof(((tlsinfo *)0)->cipher) },
    { "SSL_TLS_SNI_SERVERNAME", offsetof(tlsinfo, sni), sizeof(((tlsinfo *)0)->sni) },
    { "SSL_PEER_CERT_HASH", offsetof(tlsinfo, peer_cert_hash), sizeof(((tlsinfo *)0)->peer_cert_hash) },
    { "SSL_PEER_CERT_SUBJECT", offsetof(tlsinfo, peer_cert_subject), sizeof(((tlsinfo *)0)->peer_cert_subject) },
  } ;
  size_t pos = 0 ;
  long total = tlsinfo_block_complete(buf, len) ;
  if (total <= 0) return -1 ;
  memset(info, 0, sizeof(*info)) ;
  while (pos < (size_t)total - 1)
  {
    size_t elen = strlen(buf + pos) ;
    char const *eq = memchr(buf + pos, '=', elen) ;
    size_t nlen = eq ? (size_t)(eq - (buf + pos)) : elen ;  /* a bare NAME means unset */
    for (size_t i = 0 ; i < sizeof(fields) / sizeof(fields[0]) ; i++)
      if (strlen(fields[i].name) == nlen && !memcmp(fields[i].name, buf + pos, nlen))
      {
        char *field = (char *)info + fields[i].off ;
        if (eq) set(field, fields[i].size, eq + 1, elen - nlen - 1) ;
        else field[0] = 0 ;
      }
    pos += elen + 1 ;
  }
  return 0 ;
}

/* tlsinfo_block_make.c: serialises the TLS facts as an info block. */
#include <string.h>
#include "tlsinfo.h"

static size_t put (char *buf, size_t max, size_t pos, char const *name, char const *value)
{
  size_t n = strlen(name), v = strlen(value) ;
  if (!v || pos == (size_t)-1) return pos ;  /* unknown: omitted, never a bare name */
  if (pos + n + 1 + v + 1 + 1 > max) return (size_t)-1 ;  /* keep room for the final \0 */
  memcpy(buf + pos, name, n) ; pos += n ;
  buf[pos++] = '=' ;
  memcpy(buf + pos, value, v) ; pos += v ;
  buf[pos++] = 0 ;
  return pos ;
}

size_t tlsinfo_block_make (tlsinfo const *info, char *buf, size_t max)
{
  size_t pos = 0 ;
  pos = put(buf, max, pos, "SSL_PROTOCOL", info->protocol) ;
  pos = put(buf, max, pos, "SSL_CIPHER", info->cipher) ;
  pos = put(buf, max, pos, "SSL_TLS_SNI_SERVERNAME", info->sni) ;
  pos = put(buf, max, pos, "SSL_PEER_CERT_HASH", info->peer_cert_hash) ;
  pos = put(buf, max, pos, "SSL_PEER_CERT_SUBJECT", info->peer_cert_subject) ;
  if (pos == (size_t)-1 || pos + 1 > max) return 0 ;
  buf[pos++] = 0 ;
  return pos ;
}

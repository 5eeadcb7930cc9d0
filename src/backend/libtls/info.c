/* info.c: what libtls tells of an established session. */
#include <string.h>
#include "libtls-internal.h"

static void copy (char *field, size_t size, char const *value)
{
  size_t n ;
  if (!value) return ;
  n = strlen(value) ;
  if (n >= size) n = size - 1 ;
  memcpy(field, value, n) ;
  field[n] = 0 ;
}

void tlsb_info (tlsb const *s, tlsinfo *info)
{
  struct tls *c = s->conn ;
  copy(info->protocol, sizeof(info->protocol), tls_conn_version(c)) ;
  copy(info->cipher, sizeof(info->cipher), tls_conn_cipher(c)) ;
  if (s->conf->role == TLSCONF_SERVER) copy(info->sni, sizeof(info->sni), tls_conn_servername(c)) ;
  else copy(info->sni, sizeof(info->sni), s->conf->servername) ;
  if (tls_peer_cert_provided(c))
  {
    char const *h = tls_peer_cert_hash(c) ;
    if (h && !strncmp(h, "SHA256:", 7) && strlen(h) == 71) copy(info->peer_cert_hash, sizeof(info->peer_cert_hash), h) ;
    copy(info->peer_cert_subject, sizeof(info->peer_cert_subject), tls_peer_cert_subject(c)) ;
  }
}

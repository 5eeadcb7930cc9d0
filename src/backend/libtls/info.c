/* info.c: what libtls tells of an established session. */
#include <string.h>
#include "libtls-internal.h"

void libtls_copy_clean (char *field, size_t size, char const *value, unsigned char lowest)
{
  size_t n ;
  if (!value) return ;
  n = strlen(value) ;
  if (n >= size) n = size - 1 ;
  memcpy(field, value, n) ;
  field[n] = 0 ;
  for (size_t i = 0 ; i < n ; i++)
    if ((unsigned char)field[i] < lowest || (unsigned char)field[i] >= 0x7f) field[i] = '?' ;
}

static void copy (char *field, size_t size, char const *value) { libtls_copy_clean(field, size, value, 0x20) ; }

void tlsb_info (tlsb const *s, tlsinfo *info)
{
  struct tls *c = s->conn ;
  copy(info->protocol, sizeof(info->protocol), tls_conn_version(c)) ;
  copy(info->cipher, sizeof(info->cipher), tls_conn_cipher(c)) ;
  /* a host name has no space either */
  libtls_copy_clean(info->sni, sizeof(info->sni), s->conf->role == TLSCONF_SERVER ? tls_conn_servername(c) : s->conf->servername, 0x21) ;
  if (tls_peer_cert_provided(c))
  {
    char const *h = tls_peer_cert_hash(c) ;
    if (h && !strncmp(h, "SHA256:", 7) && strlen(h) == 71) copy(info->peer_cert_hash, sizeof(info->peer_cert_hash), h) ;
    copy(info->peer_cert_subject, sizeof(info->peer_cert_subject), tls_peer_cert_subject(c)) ;
  }
}

int tlsb_resumed (tlsb const *s)
{
  return s->resumed || (s->conn && tls_conn_session_resumed(s->conn) == 1) ;
}

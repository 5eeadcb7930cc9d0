/* info.c: tlsb_info, the facts of an established BearSSL session. */
#include <string.h>
#include "bearssl-internal.h"

/* Copies src (NULL: unknown) into dst of size max, truncating. */
static void set (char *dst, size_t max, char const *src)
{
  size_t n = src ? strlen(src) : 0 ;
  if (n >= max) n = max - 1 ;
  memcpy(dst, src ? src : "", n) ;
  dst[n] = 0 ;
}

void bsb_clean_name (char *dst, size_t max, char const *src)
{
  set(dst, max, src) ;
  for (char *p = dst ; *p ; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) *p = '?' ;
}

void tlsb_info (tlsb const *s, tlsinfo *info)
{
  br_ssl_session_parameters params ;
  br_ssl_engine_get_session_parameters(s->eng, &params) ;
  set(info->protocol, sizeof(info->protocol), bsb_version_name(params.version)) ;
  set(info->cipher, sizeof(info->cipher), bsb_suite_name(params.cipher_suite)) ;
  explicit_bzero(&params, sizeof(params)) ;  /* it holds the master secret */
  if (s->conf.role == TLSCONF_SERVER) bsb_clean_name(info->sni, sizeof(info->sni), br_ssl_engine_get_server_name(s->eng)) ;
  else bsb_clean_name(info->sni, sizeof(info->sni), s->conf.servername) ;
  set(info->peer_cert_hash, sizeof(info->peer_cert_hash), s->x509.have_peer ? s->x509.hash : 0) ;
  set(info->peer_cert_subject, sizeof(info->peer_cert_subject), s->x509.have_peer ? s->x509.subject : 0) ;
}

int tlsb_resumed (tlsb const *s)
{
  return s->resumed ;
}

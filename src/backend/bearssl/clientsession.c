/* clientsession.c: SESSIONFILE for the BearSSL client: the session offered again, and the one kept. */
#include <string.h>
#include "bearssl-internal.h"

/* The blob: version (2), cipher suite (2), session id length (1), session id (32), master secret (48). */
#define BLOB_LEN 85

int bsb_client_session_offer (tlsb *s)
{
  unsigned char blob[SESSIONFILE_BLOB_MAX] ;
  br_ssl_session_parameters p ;
  size_t len = sessionfile_load(&s->sfile, blob, sizeof(blob)) ;
  int ok = len == BLOB_LEN && blob[4] && blob[4] <= 32 ;
  if (ok)
  {
    memset(&p, 0, sizeof(p)) ;
    p.version = (uint16_t)(blob[0] << 8 | blob[1]) ;
    p.cipher_suite = (uint16_t)(blob[2] << 8 | blob[3]) ;
    p.session_id_len = blob[4] ;
    memcpy(p.session_id, blob + 5, p.session_id_len) ;
    memcpy(p.master_secret, blob + 37, 48) ;
    br_ssl_engine_set_session_parameters(s->eng, &p) ;
    memcpy(s->offered_id, p.session_id, p.session_id_len) ;
    s->offered_id_len = p.session_id_len ;
    explicit_bzero(&p, sizeof(p)) ;
  }
  explicit_bzero(blob, sizeof(blob)) ;
  return ok ;
}

void bsb_client_session_done (tlsb *s)
{
  unsigned char blob[BLOB_LEN] ;
  br_ssl_session_parameters p ;
  br_ssl_engine_get_session_parameters(s->eng, &p) ;
  /* the server resumed the offered session: the file keeps it as it was
     (its lifetime counts from its full handshake) */
  if (s->offered_id_len && p.session_id_len == s->offered_id_len && !memcmp(p.session_id, s->offered_id, s->offered_id_len))
    s->resumed = 1 ;
  /* a server that gives no session id cannot resume it */
  else if (p.session_id_len)
  {
    blob[0] = (unsigned char)(p.version >> 8) ; blob[1] = (unsigned char)p.version ;
    blob[2] = (unsigned char)(p.cipher_suite >> 8) ; blob[3] = (unsigned char)p.cipher_suite ;
    blob[4] = p.session_id_len ;
    memset(blob + 5, 0, 32) ;
    memcpy(blob + 5, p.session_id, p.session_id_len) ;
    memcpy(blob + 37, p.master_secret, 48) ;
    sessionfile_save(&s->sfile, blob, sizeof(blob)) ;
    explicit_bzero(blob, sizeof(blob)) ;
  }
  explicit_bzero(&p, sizeof(p)) ;
}

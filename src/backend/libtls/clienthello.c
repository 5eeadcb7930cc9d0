/* clienthello.c: reads the SNI host name and the ALPN offer out of a ClientHello record, bounds-checked. */
#include <string.h>
#include "libtls-internal.h"
#include "ust.h"

/* A cursor over [p, end): every read checks the remaining length. */
typedef struct cursor_s { unsigned char const *p, *end ; } cursor ;

static int take (cursor *c, size_t n, unsigned char const **out)
{
  if ((size_t)(c->end - c->p) < n) return 0 ;
  if (out) *out = c->p ;
  c->p += n ;
  return 1 ;
}

static int u8 (cursor *c, size_t *v)
{
  unsigned char const *b ;
  if (!take(c, 1, &b)) return 0 ;
  *v = b[0] ;
  return 1 ;
}

static int u16 (cursor *c, size_t *v)
{
  unsigned char const *b ;
  if (!take(c, 2, &b)) return 0 ;
  *v = (size_t)b[0] << 8 | b[1] ;
  return 1 ;
}

/* Looks for host_name in the server_name extension body. */
static int server_name (cursor ext, char *name, size_t max)
{
  size_t listlen, type, len ;
  unsigned char const *host ;
  if (!u16(&ext, &listlen) || listlen != (size_t)(ext.end - ext.p)) return -1 ;
  while (ext.p < ext.end)
  {
    if (!u8(&ext, &type) || !u16(&ext, &len) || !take(&ext, len, &host)) return -1 ;
    if (type != 0) continue ;
    if (!len || len >= max || memchr(host, 0, len)) return -1 ;
    memcpy(name, host, len) ;
    name[len] = 0 ;
    return 1 ;
  }
  return 0 ;
}

/* Finds extension etype in the ClientHello of the first record: 1 and its
   body in *ext, 0 if it is not there (or not in this record), -1 if the
   record is not a ClientHello, -2 if the record is incomplete. */
static int find_ext (char const *rec, size_t len, size_t want, cursor *ext)
{
  cursor c = { (unsigned char const *)rec, (unsigned char const *)rec + len } ;
  cursor body ;
  size_t type, major, reclen, hstype, n ;
  unsigned char const *b ;
  if (len < 5) return -2 ;
  if (!u8(&c, &type) || !u8(&c, &major) || !take(&c, 1, 0) || !u16(&c, &reclen)) return -2 ;
  if (type != 22 || major != 3 || !reclen || reclen > 16384 + 2048) return -1 ;
  if (len < 5 + reclen) return -2 ;
  c.end = c.p + reclen ;
  if (!u8(&c, &hstype) || hstype != 1) return -1 ;
  if (!take(&c, 3, &b)) return 0 ;
  n = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2] ;
  /* The message may continue in a later record: look only at what this one has. */
  body.p = c.p ;
  body.end = n < (size_t)(c.end - c.p) ? c.p + n : c.end ;
  if (!take(&body, 2 + 32, 0)) return 0 ;                                /* version, random */
  if (!u8(&body, &n) || !take(&body, n, 0)) return 0 ;                   /* session id */
  if (!u16(&body, &n) || !take(&body, n, 0)) return 0 ;                  /* cipher suites */
  if (!u8(&body, &n) || !take(&body, n, 0)) return 0 ;                   /* compression */
  if (!u16(&body, &n)) return 0 ;                                        /* extensions */
  if ((size_t)(body.end - body.p) > n) body.end = body.p + n ;
  while (body.p < body.end)
  {
    size_t etype, elen ;
    if (!u16(&body, &etype) || !u16(&body, &elen) || !take(&body, elen, &b)) return 0 ;
    if (etype != want) continue ;
    ext->p = b ; ext->end = b + elen ;
    return 1 ;
  }
  return 0 ;
}

int clienthello_sni (char const *rec, size_t len, char *name, size_t max)
{
  cursor ext ;
  int r = find_ext(rec, len, 0, &ext) ;
  return r == 1 ? server_name(ext, name, max) : r ;
}

int clienthello_alpn_foreign (char const *rec, size_t len)
{
  cursor ext ;
  size_t listlen, idlen ;
  unsigned char const *id ;
  int r = find_ext(rec, len, 16, &ext) ;
  if (r != 1) return r ;
  /* a malformed list: OpenSSL refuses it itself (decode_error) */
  if (!u16(&ext, &listlen) || !listlen || listlen != (size_t)(ext.end - ext.p)) return 0 ;
  while (ext.p < ext.end)
  {
    if (!u8(&ext, &idlen) || !take(&ext, idlen, &id)) return 0 ;
    if (ust_alpn_is_mail(id, idlen)) return 0 ;
  }
  return 1 ;
}

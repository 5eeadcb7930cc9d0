/* objects.c: reads a PEM or DER file into the DER objects it holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "exitcodes.h"
#include "ust.h"
#include "bearssl-internal.h"

/* Appends an object taking ownership of der (malloc'd). Returns 0, or -1 if out of memory. */
static int add_object (bsb_objects *o, char const *name, unsigned char *der, size_t len)
{
  bsb_object *v = realloc(o->v, (o->n + 1) * sizeof(*v)) ;
  size_t nlen = strlen(name) ;
  if (!v) return -1 ;
  o->v = v ;
  if (nlen >= sizeof(v[o->n].name)) nlen = sizeof(v[o->n].name) - 1 ;
  memcpy(v[o->n].name, name, nlen) ;
  v[o->n].name[nlen] = 0 ;
  v[o->n].der = der ;
  v[o->n].len = len ;
  o->n++ ;
  return 0 ;
}

/* Takes the bytes of sa as a new object; sa is left empty. */
static int add_stralloc (bsb_objects *o, char const *name, stralloc *sa)
{
  unsigned char *der = malloc(sa->len ? sa->len : 1) ;
  if (!der) return -1 ;
  if (sa->len) memcpy(der, sa->s, sa->len) ;
  if (add_object(o, name, der, sa->len) < 0) { explicit_bzero(der, sa->len) ; free(der) ; return -1 ; }
  if (sa->len) explicit_bzero(sa->s, sa->len) ;
  sa->len = 0 ;
  return 0 ;
}

typedef struct pem_sink_s {
  stralloc *sa ;
  int nomem ;
} pem_sink ;

static void pem_append (void *ctx, void const *data, size_t len)
{
  pem_sink *sink = ctx ;
  if (!sink->nomem && !stralloc_catb(sink->sa, data, len)) sink->nomem = 1 ;
}

/* Decodes every PEM object of data. Returns 0, or an exit code with *why set. */
static int split_pem (char const *file, unsigned char const *data, size_t len, bsb_objects *o, char const **why)
{
  br_pem_decoder_context pc ;
  stralloc sa = STRALLOC_ZERO ;
  pem_sink sink = { .sa = &sa, .nomem = 0 } ;
  char name[sizeof(o->v[0].name)] = "" ;
  int inside = 0, e = 0, tail = 0 ;
  size_t pos = 0 ;
  br_pem_decoder_init(&pc) ;
  /* The decoder only sees an END line once it is terminated: a final
     newline is pushed after the data, for files that lack one. */
  while (pos < len || !tail)
  {
    unsigned char const *chunk = pos < len ? data + pos : (unsigned char const *)"\n" ;
    size_t n = br_pem_decoder_push(&pc, chunk, pos < len ? len - pos : 1) ;
    if (pos < len) pos += n ;
    else if (n) tail = 1 ;
    switch (br_pem_decoder_event(&pc))
    {
      case BR_PEM_BEGIN_OBJ :
      {
        /* a name longer than ours is cut: it is only compared with known labels */
        char const *pn = br_pem_decoder_name(&pc) ;
        size_t k = strlen(pn) ;
        if (k >= sizeof(name)) k = sizeof(name) - 1 ;
        memcpy(name, pn, k) ;
        name[k] = 0 ;
        sa.len = 0 ;
        br_pem_decoder_setdest(&pc, &pem_append, &sink) ;
        inside = 1 ;
        break ;
      }
      case BR_PEM_END_OBJ :
        if (sink.nomem || add_stralloc(o, name, &sa) < 0) { *why = bsb_why("out of memory reading ", file, (char const *)0) ; e = UST_EXIT_SYS ; goto end ; }
        inside = 0 ;
        break ;
      case BR_PEM_ERROR :
        *why = bsb_why("invalid PEM data in ", file, (char const *)0) ;
        e = UST_EXIT_TLSCONF ;
        goto end ;
      default :
        if (!n && pos < len) { *why = bsb_why("invalid PEM data in ", file, (char const *)0) ; e = UST_EXIT_TLSCONF ; goto end ; }
        break ;
    }
  }
  if (inside)
  {
    *why = bsb_why("truncated PEM object in ", file, (char const *)0) ;
    e = UST_EXIT_TLSCONF ;
  }
 end:
  if (sa.s) explicit_bzero(sa.s, sa.a) ;
  stralloc_free(&sa) ;
  return e ;
}

/* Splits data into its top-level DER SEQUENCEs. Returns 0, or an exit code with *why set. */
static int split_der (char const *file, unsigned char const *data, size_t len, bsb_objects *o, char const **why)
{
  size_t pos = 0 ;
  while (pos < len)
  {
    unsigned int tag ;
    unsigned char const *content ;
    size_t clen, total = ust_der_next(data + pos, len - pos, &tag, &content, &clen) ;
    unsigned char *der ;
    if (!total || tag != 0x30) goto invalid ;
    der = malloc(total) ;
    if (!der || add_object(o, "", der, total) < 0)
    {
      free(der) ;
      *why = bsb_why("out of memory reading ", file, (char const *)0) ;
      return UST_EXIT_SYS ;
    }
    memcpy(der, data + pos, total) ;
    pos += total ;
  }
  return 0 ;
 invalid:
  *why = bsb_why("invalid DER data in ", file, (char const *)0) ;
  return UST_EXIT_TLSCONF ;
}

int bsb_read_objects (char const *file, bsb_objects *out, char const **why)
{
  stralloc sa = STRALLOC_ZERO ;
  int e ;
  out->v = 0 ;
  out->n = 0 ;
  if (!openslurpclose(&sa, file))
  {
    *why = bsb_why("unable to read ", file, ": ", strerror(errno), (char const *)0) ;
    return errno == ENOMEM ? UST_EXIT_SYS : UST_EXIT_TLSCONF ;
  }
  if (!sa.len)
  {
    *why = bsb_why("empty file: ", file, (char const *)0) ;
    e = UST_EXIT_TLSCONF ;
  }
  else if (memmem(sa.s, sa.len, "-----BEGIN ", 11))
    e = split_pem(file, (unsigned char const *)sa.s, sa.len, out, why) ;
  else if ((unsigned char)sa.s[0] == 0x30)
    e = split_der(file, (unsigned char const *)sa.s, sa.len, out, why) ;
  else
  {
    *why = bsb_why("neither PEM nor DER data in ", file, (char const *)0) ;
    e = UST_EXIT_TLSCONF ;
  }
  if (sa.s) explicit_bzero(sa.s, sa.a) ;
  stralloc_free(&sa) ;
  if (e) bsb_objects_free(out) ;
  return e ;
}

void bsb_objects_free (bsb_objects *o)
{
  for (size_t i = 0 ; i < o->n ; i++)
  {
    if (!o->v[i].der) continue ;  /* moved out by the caller */
    explicit_bzero(o->v[i].der, o->v[i].len) ;
    free(o->v[i].der) ;
  }
  free(o->v) ;
  o->v = 0 ;
  o->n = 0 ;
}

int bsb_object_is_certificate (bsb_object const *obj)
{
  return !obj->name[0] || !strcmp(obj->name, "CERTIFICATE") || !strcmp(obj->name, "X509 CERTIFICATE") ;
}

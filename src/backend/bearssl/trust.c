/* trust.c: trust anchors from CAFILE (one PEM/DER file) and CADIR (every regular file of a directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "exitcodes.h"
#include "bearssl-internal.h"

static int same_key (br_x509_pkey const *a, br_x509_pkey const *b)
{
  if (a->key_type != b->key_type) return 0 ;
  if (a->key_type == BR_KEYTYPE_RSA)
    return a->key.rsa.nlen == b->key.rsa.nlen && !memcmp(a->key.rsa.n, b->key.rsa.n, a->key.rsa.nlen)
      && a->key.rsa.elen == b->key.rsa.elen && !memcmp(a->key.rsa.e, b->key.rsa.e, a->key.rsa.elen) ;
  return a->key.ec.curve == b->key.ec.curve && a->key.ec.qlen == b->key.ec.qlen
    && !memcmp(a->key.ec.q, b->key.ec.q, a->key.ec.qlen) ;
}

/* Returns 1 if t already holds an anchor with this name and key (CADIR
   usually has each certificate twice: the file and its hash symlink). */
static int known (bsb_trust const *t, unsigned char const *dn, size_t dnlen, br_x509_pkey const *pk)
{
  for (size_t i = 0 ; i < t->n ; i++)
    if (t->v[i].dn.len == dnlen && !memcmp(t->v[i].dn.data, dn, dnlen) && same_key(&t->v[i].pkey, pk)) return 1 ;
  return 0 ;
}

/* Copies pk into ta->pkey, with one owned buffer for the key bytes. Returns 0, or -1 if out of memory. */
static int copy_pkey (br_x509_trust_anchor *ta, br_x509_pkey const *pk)
{
  ta->pkey.key_type = pk->key_type ;
  if (pk->key_type == BR_KEYTYPE_RSA)
  {
    unsigned char *p = malloc(pk->key.rsa.nlen + pk->key.rsa.elen) ;
    if (!p) return -1 ;
    memcpy(p, pk->key.rsa.n, pk->key.rsa.nlen) ;
    memcpy(p + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen) ;
    ta->pkey.key.rsa.n = p ;
    ta->pkey.key.rsa.nlen = pk->key.rsa.nlen ;
    ta->pkey.key.rsa.e = p + pk->key.rsa.nlen ;
    ta->pkey.key.rsa.elen = pk->key.rsa.elen ;
  }
  else
  {
    unsigned char *p = malloc(pk->key.ec.qlen) ;
    if (!p) return -1 ;
    memcpy(p, pk->key.ec.q, pk->key.ec.qlen) ;
    ta->pkey.key.ec.curve = pk->key.ec.curve ;
    ta->pkey.key.ec.q = p ;
    ta->pkey.key.ec.qlen = pk->key.ec.qlen ;
  }
  return 0 ;
}

/* Adds the DER certificate cert as an anchor. Returns 0 or an exit code. */
static int add_anchor (bsb_trust *t, char const *file, unsigned char const *cert, size_t len, char const **why)
{
  br_x509_decoder_context dc ;
  br_x509_pkey const *pk ;
  bsb_dn_sink dn = BSB_DN_SINK_ZERO ;
  br_x509_trust_anchor *ta ;
  br_x509_decoder_init(&dc, &bsb_dn_append, &dn) ;
  br_x509_decoder_push(&dc, cert, len) ;
  pk = br_x509_decoder_get_pkey(&dc) ;
  if (!pk)
  {
    char const *words = bsb_error_words(br_x509_decoder_last_error(&dc)) ;
    stralloc_free(&dn.sa) ;
    *why = bsb_why("invalid certificate in ", file, words ? " (" : "", words ? words : "", words ? ")" : "", (char const *)0) ;
    return UST_EXIT_TLSCONF ;
  }
  if (dn.nomem || !dn.sa.len) goto nomem ;
  if (known(t, (unsigned char const *)dn.sa.s, dn.sa.len, pk)) { stralloc_free(&dn.sa) ; return 0 ; }
  if (t->n == t->cap)
  {
    size_t cap = t->cap ? 2 * t->cap : 16 ;
    br_x509_trust_anchor *v = realloc(t->v, cap * sizeof(*v)) ;
    if (!v) goto nomem ;
    t->v = v ;
    t->cap = cap ;
  }
  ta = &t->v[t->n] ;
  memset(ta, 0, sizeof(*ta)) ;
  if (copy_pkey(ta, pk) < 0) goto nomem ;
  ta->dn.data = (unsigned char *)dn.sa.s ;  /* ownership moves to the anchor */
  ta->dn.len = dn.sa.len ;
  ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0 ;
  t->n++ ;
  return 0 ;
 nomem:
  stralloc_free(&dn.sa) ;
  *why = "out of memory" ;
  return UST_EXIT_SYS ;
}

/* Adds every certificate of file; *certs counts them. Returns 0 or an exit code. */
static int add_file (bsb_trust *t, char const *file, size_t *certs, char const **why)
{
  bsb_objects objs = BSB_OBJECTS_ZERO ;
  int e = bsb_read_objects(file, &objs, why) ;
  *certs = 0 ;
  if (e) return e ;
  for (size_t i = 0 ; i < objs.n && !e ; i++)
    if (bsb_object_is_certificate(&objs.v[i]))
    {
      (*certs)++ ;
      e = add_anchor(t, file, objs.v[i].der, objs.v[i].len, why) ;
    }
  bsb_objects_free(&objs) ;
  return e ;
}

/* Returns 0 if file can be opened for reading; else -1 with *why set. */
static int readable (char const *file, char const **why)
{
  int fd = open(file, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0)
  {
    *why = bsb_why("unable to read ", file, ": ", strerror(errno), (char const *)0) ;
    return -1 ;
  }
  close(fd) ;
  return 0 ;
}

/* Adds the certificates of every regular file of dir. A file that cannot be
   opened is an error; one that holds no PEM/DER certificate is skipped (a
   README, a CRL). */
static int add_dir (bsb_trust *t, char const *dir, char const **why)
{
  DIR *d = opendir(dir) ;
  stralloc path = STRALLOC_ZERO ;
  int e = 0 ;
  if (!d)
  {
    *why = bsb_why("unable to open CADIR ", dir, ": ", strerror(errno), (char const *)0) ;
    return errno == ENOMEM ? UST_EXIT_SYS : UST_EXIT_TLSCONF ;
  }
  for (;;)
  {
    struct dirent *de ;
    struct stat st ;
    size_t certs ;
    char const *skipwhy ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de)
    {
      if (errno)
      {
        *why = bsb_why("unable to read CADIR ", dir, ": ", strerror(errno), (char const *)0) ;
        e = UST_EXIT_TLSCONF ;
      }
      break ;
    }
    if (de->d_name[0] == '.') continue ;
    path.len = 0 ;
    if (!stralloc_cats(&path, dir) || !stralloc_catb(&path, "/", 1) || !stralloc_cats(&path, de->d_name) || !stralloc_0(&path))
    {
      *why = "out of memory" ;
      e = UST_EXIT_SYS ;
      break ;
    }
    if (stat(path.s, &st) < 0 || !S_ISREG(st.st_mode)) continue ;  /* dangling link, subdirectory... */
    if (readable(path.s, why) < 0) { e = UST_EXIT_TLSCONF ; break ; }
    e = add_file(t, path.s, &certs, &skipwhy) ;
    if (e == UST_EXIT_TLSCONF && !certs) { e = 0 ; continue ; }  /* not a certificate file */
    if (e) { *why = skipwhy ; break ; }
  }
  closedir(d) ;
  stralloc_free(&path) ;
  return e ;
}

int bsb_load_trust (char const *cafile, char const *cadir, bsb_trust *t, char const **why)
{
  int e ;
  if (cafile)
  {
    size_t certs ;
    e = add_file(t, cafile, &certs, why) ;
    if (e) return e ;
    if (!certs)
    {
      *why = bsb_why("no trust anchors in CAFILE ", cafile, (char const *)0) ;
      return UST_EXIT_TLSCONF ;
    }
  }
  if (cadir)
  {
    e = add_dir(t, cadir, why) ;
    if (e) return e ;
  }
  if (!t->n)
  {
    *why = bsb_why("no trust anchors in CADIR ", cadir ? cadir : "(unset)", (char const *)0) ;
    return UST_EXIT_TLSCONF ;
  }
  return 0 ;
}

void bsb_trust_free (bsb_trust *t)
{
  for (size_t i = 0 ; i < t->n ; i++)
  {
    free(t->v[i].dn.data) ;
    free(t->v[i].pkey.key_type == BR_KEYTYPE_RSA ? t->v[i].pkey.key.rsa.n : t->v[i].pkey.key.ec.q) ;
  }
  free(t->v) ;
  t->v = 0 ;
  t->n = t->cap = 0 ;
}

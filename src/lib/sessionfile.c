/* sessionfile.c: SESSIONFILE, a client's kept session: its format, binding, lifetime and locking. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <skalibs/sha256.h>
#include <skalibs/uint32.h>
#include <skalibs/uint64.h>
#include "sessionfile.h"
#include "ust.h"

/* The file: "ustcs1\n\0", the creation time (8 bytes, big-endian seconds),
   the binding (32), the blob's length (4, big-endian), the blob. */
#define HEAD 52

static char const magic[8] = "ustcs1\n" ;

static void add (SHA256Schedule *h, char const *s)
{
  sha256_update(h, s ? s : "", s ? strlen(s) + 1 : 1) ;
}

/* The file's identity: a trust store replaced or edited in place ends the sessions made under it. */
static void add_file (SHA256Schedule *h, char const *file)
{
  struct stat st ;
  uint64_t v[5] = { 0, 0, 0, 0, 0 } ;
  add(h, file) ;
  if (file && !stat(file, &st))
  {
    v[0] = (uint64_t)st.st_dev ; v[1] = (uint64_t)st.st_ino ; v[2] = (uint64_t)st.st_size ;
    v[3] = (uint64_t)st.st_mtim.tv_sec ; v[4] = (uint64_t)st.st_mtim.tv_nsec ;
  }
  sha256_update(h, (char const *)v, sizeof(v)) ;
}

int sessionfile_open (sessionfile *f, tlsconf const *conf, char const *backend, char const **why)
{
  SHA256Schedule h = SHA256_INIT() ;
  char pol[3] = { (char)conf->protocols, (char)conf->ciphers, (char)conf->clientcert } ;
  f->fd = -1 ;
  f->lifetime = conf->session_lifetime ;
  if (!conf->sessionfile) return 0 ;
  add(&h, "ust client session v1") ;
  add(&h, backend) ;
  add(&h, conf->servername) ;
  sha256_update(&h, pol, sizeof(pol)) ;
  add_file(&h, conf->cafile) ;
  add_file(&h, conf->cadir) ;
  if (conf->clientcert != TLSCONF_CLIENTCERT_NONE && conf->has_default)
  {
    add_file(&h, conf->keypairs[0].certfile) ;
    add_file(&h, conf->keypairs[0].keyfile) ;
  }
  sha256_final(&h, (char *)f->bind) ;
  f->fd = ust_secret_file_open(conf->sessionfile, why) ;
  return f->fd < 0 ? -1 : 0 ;
}

size_t sessionfile_load (sessionfile const *f, unsigned char *blob, size_t max)
{
  unsigned char head[HEAD] ;
  uint64_t made = 0, now = (uint64_t)time(0) ;
  uint32_t len = 0 ;
  ssize_t r ;
  if (f->fd < 0 || ust_secret_lock(f->fd, LOCK_SH) < 0) return 0 ;
  do r = pread(f->fd, head, HEAD, 0) ;
  while (r < 0 && errno == EINTR) ;
  if (r == HEAD && !memcmp(head, magic, 8) && !memcmp(head + 16, f->bind, 32))
  {
    uint64_unpack_big((char const *)head + 8, &made) ;
    uint32_unpack_big((char const *)head + 48, &len) ;
    if (made > now || now - made >= f->lifetime || !len || len > max) len = 0 ;
    else
    {
      do r = pread(f->fd, blob, len, HEAD) ;
      while (r < 0 && errno == EINTR) ;
      if (r != (ssize_t)len) { explicit_bzero(blob, max) ; len = 0 ; }
    }
  }
  flock(f->fd, LOCK_UN) ;
  return len ;
}

int sessionfile_save (sessionfile const *f, unsigned char const *blob, size_t len)
{
  unsigned char buf[HEAD + SESSIONFILE_BLOB_MAX] ;
  uint64_t now = (uint64_t)time(0) ;
  ssize_t w ;
  if (f->fd < 0 || !len || len > SESSIONFILE_BLOB_MAX) return -1 ;
  memcpy(buf, magic, 8) ;
  uint64_pack_big((char *)buf + 8, now) ;
  memcpy(buf + 16, f->bind, 32) ;
  uint32_pack_big((char *)buf + 48, (uint32_t)len) ;
  memcpy(buf + HEAD, blob, len) ;
  if (ust_secret_lock(f->fd, LOCK_EX) < 0) { explicit_bzero(buf, sizeof(buf)) ; return -1 ; }
  do w = pwrite(f->fd, buf, HEAD + len, 0) ;
  while (w < 0 && errno == EINTR) ;
  if (w == (ssize_t)(HEAD + len)) ftruncate(f->fd, HEAD + len) ;
  else ftruncate(f->fd, 0) ;
  flock(f->fd, LOCK_UN) ;
  explicit_bzero(buf, sizeof(buf)) ;
  return w == (ssize_t)(HEAD + len) ? 0 : -1 ;
}

void sessionfile_close (sessionfile *f)
{
  if (f->fd >= 0) close(f->fd) ;
  f->fd = -1 ;
}

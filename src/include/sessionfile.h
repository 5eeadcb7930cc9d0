/* sessionfile.h: SESSIONFILE, the one session a TLS client keeps to resume its next connection. */
#ifndef UST_SESSIONFILE_H
#define UST_SESSIONFILE_H

#include <stddef.h>
#include "tlsconf.h"

/* The largest backend session blob kept (libtls writes a PEM session). */
#define SESSIONFILE_BLOB_MAX 8192

typedef struct sessionfile_s {
  int fd ;                      /* the file, or -1: no SESSIONFILE */
  unsigned char bind[32] ;      /* what the session is for (sessionfile_open) */
  unsigned int lifetime ;       /* SESSION_LIFETIME */
} sessionfile ;

/* Opens conf->sessionfile (created 0600 if absent; checked as
   ust_secret_file_open does) for a client of backend, and computes the
   binding: a stored session is offered again only for the same backend,
   server name (-k), TLS_PROTOCOLS, TLS_CIPHERS, client certificate files
   and trust anchors (CAFILE, CADIR: names and their inode, size and
   modification time, so a changed trust store ends it). Returns 0, or -1
   with *why. f->fd is -1 when conf->sessionfile is NULL. */
extern int sessionfile_open (sessionfile *f, tlsconf const *conf, char const *backend, char const **why) ;

/* Reads the stored session into blob (max bytes): its length, or 0 when
   there is none, or it was made for something else, is older than the
   lifetime, or the file is locked by another process for more than a few
   milliseconds. */
extern size_t sessionfile_load (sessionfile const *f, unsigned char *blob, size_t max) ;

/* Stores blob (len bytes, at most SESSIONFILE_BLOB_MAX) as the session,
   made now. Returns 0, or -1 (the session is then not kept). */
extern int sessionfile_save (sessionfile const *f, unsigned char const *blob, size_t len) ;

extern void sessionfile_close (sessionfile *f) ;

#endif

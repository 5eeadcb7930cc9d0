/* libtls-internal.h: the libtls backend's private state and helpers. */
#ifndef UST_LIBTLS_INTERNAL_H
#define UST_LIBTLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <tls.h>
#include "tlsb.h"
#include "tlsconf.h"
#include "sessionfile.h"

#define HELLO_MAX (16384 + 5)  /* one TLS record: where the ClientHello's SNI is looked for */
/* OpenSSL reads a record header, then its body: two reads per record. The
   read callback reads the network this much at a time instead. */
#define LIBTLS_READAHEAD 65536

struct tlsb_s {
  tlsconf const *conf ;
  int netr, netw ;
  struct tls *ctx[TLSCONF_KEYPAIRS_MAX] ;  /* server: one configured context per keypair; client: ctx[0] */
  struct tls_config *cfg[TLSCONF_KEYPAIRS_MAX] ;
  unsigned int nctx ;
  struct tls *conn ;          /* the connection, once a context is chosen */
  int closed_notify ;         /* tlsb_close_notify has completed */
  int raw_eof ;               /* the read callback saw EOF on netr (and hid it from libtls) */
  char hello[HELLO_MAX] ;     /* server: the first record, read before libtls sees it */
  size_t hello_len, hello_pos ;
  char *rahead ;              /* LIBTLS_READAHEAD bytes, allocated at the first read after the ClientHello */
  size_t rpos, rlen ;         /* rahead[rpos..rlen) read from the network, not yet given to libtls */
  sessionfile sfile ;         /* client: SESSIONFILE (sfile.fd -1: none) */
  int memfd ;                 /* client with SESSIONFILE: the session libtls reads and writes, or -1 */
  int resumed ;               /* the handshake resumed a session */
  int handshake_done ;
  char err[512] ;
} ;

/* clientsession.c: SESSIONFILE on the client. Opens it and gives cfg the
   session it holds, if one fits. Returns 0 or an exit code, s->err set. */
extern int libtls_client_session_setup (tlsb *s, struct tls_config *cfg) ;

/* After the client's handshake: sets s->resumed, or keeps the new session. */
extern void libtls_client_session_done (tlsb *s) ;

/* Loads every file the configuration names and builds the configured
   contexts in s (server: one per keypair; client: one). Returns 0, or an
   exit code (UST_EXIT_TLSCONF, UST_EXIT_SETUP, UST_EXIT_SYS) with s->err set. */
extern int libtls_configure (tlsb *s) ;

/* Read and write callbacks over s->netr / s->netw (passed as cb_arg).
   The read callback first hands out the buffered ClientHello record. */
extern ssize_t libtls_read_cb (struct tls *ctx, void *buf, size_t len, void *arg) ;
extern ssize_t libtls_write_cb (struct tls *ctx, void const *buf, size_t len, void *arg) ;

/* Finds the server_name (host_name) in a TLS record holding a ClientHello:
   rec/len are the record from its 5-byte header on. Writes the name, NUL
   terminated, into name (max bytes). Returns 1 found, 0 no SNI, -1 not a
   well-formed ClientHello, -2 more bytes of the record are needed. */
extern int clienthello_sni (char const *rec, size_t len, char *name, size_t max) ;

/* The ALPN offer of the same record: 1 if the client offers ALPN and no
   mail protocol id in it (ALPACA: a client of another protocol, refused),
   0 if it offers none, offers a mail id, or the list is not in this
   record or malformed (OpenSSL judges that); -1 and -2 as above. */
extern int clienthello_alpn_foreign (char const *rec, size_t len) ;

/* pem.c: 1 if mem holds a PEM header at all. */
extern int libtls_is_pem (uint8_t const *mem, size_t len) ;
/* pem.c: 1 if mem holds a complete "-----BEGIN label-----" ... "-----END label-----" block. */
extern int libtls_pem_complete (uint8_t const *mem, size_t len, char const *label) ;
/* pem.c: a malloc'ed PEM wrapping of der with label; its length in *outlen. NULL if out of memory. */
extern uint8_t *libtls_der_to_pem (uint8_t const *der, size_t len, char const *label, size_t *outlen) ;

/* pem.c: the PEM label of a DER private key: "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" or "RSA PRIVATE KEY". */
extern char const *libtls_der_key_label (uint8_t const *der, size_t len) ;

/* info.c: copies value (NULL: nothing) into field (size bytes), truncating;
   bytes below lowest or from 0x7f up become '?': the peer chooses these
   strings (the SNI name, certificate subjects), and none of its control
   bytes may reach a log line, an error message or an environment. A host
   name has no space either: lowest 0x21 for it, 0x20 for the others. */
extern void libtls_copy_clean (char *field, size_t size, char const *value, unsigned char lowest) ;

/* Sets s->err to "what: detail" (detail may be NULL). */
extern void libtls_seterr (tlsb *s, char const *what, char const *detail) ;

#endif

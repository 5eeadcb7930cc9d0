/* bearssl-internal.h: the BearSSL backend's private types and functions (not installed, not seen by the engine). */
#ifndef UST_BEARSSL_INTERNAL_H
#define UST_BEARSSL_INTERNAL_H

/* Names in this backend start with bsb_ ("BearSSL backend") so that they
   cannot be mistaken for BearSSL's own br_ API. */

#include <stddef.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>
#include "tlsb.h"
#include "tlsconf.h"
#include "sessionfile.h"
#include "tlsinfo.h"

/* A certificate of at most this many bytes is hashed for SSL_PEER_CERT_HASH;
   larger leaves (never seen in practice) leave the hash and subject unknown. */
#define BSB_LEAF_MAX 65536

/* Size of the subject text, as in tlsinfo. */
#define BSB_SUBJECT_MAX 1024

/* ---------------------------------------------------------------------- */
/* objects.c: the DER objects of a PEM or DER file. */

typedef struct bsb_object_s {
  char name[64] ;       /* PEM label ("CERTIFICATE", "EC PRIVATE KEY"...), "" for raw DER */
  unsigned char *der ;  /* owned, malloc'd */
  size_t len ;
} bsb_object ;

typedef struct bsb_objects_s {
  bsb_object *v ;
  size_t n ;
} bsb_objects ;

#define BSB_OBJECTS_ZERO { .v = 0, .n = 0 }

/* Reads file and splits it into objects: every PEM object if the file holds
   "-----BEGIN ", else every top-level DER SEQUENCE (a DER certificate chain
   is several certificates back to back). Returns 0 with *out filled; or
   UST_EXIT_TLSCONF (unreadable file, bad PEM/DER) or UST_EXIT_SYS (out of
   memory) with *why naming the file (a static message, see bsb_why). The
   file contents are wiped from memory before returning: key files pass here. */
extern int bsb_read_objects (char const *file, bsb_objects *out, char const **why) ;

/* Wipes and frees every object of o; o is then empty. */
extern void bsb_objects_free (bsb_objects *o) ;

/* Returns 1 if the object is a certificate: a PEM CERTIFICATE or X509
   CERTIFICATE, or raw DER (which the caller will try to decode as one). */
extern int bsb_object_is_certificate (bsb_object const *obj) ;

/* ---------------------------------------------------------------------- */
/* keys.c: certificate chains and private keys. */

typedef struct bsb_keypair_s {
  br_x509_certificate *chain ;   /* leaf first; each data malloc'd */
  size_t chain_len ;
  int key_type ;                 /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
  br_rsa_private_key rsa ;       /* when RSA: points into keydata */
  br_ec_private_key ec ;         /* when EC: points into keydata */
  unsigned char *keydata ;       /* the private key bytes, owned, wiped on free */
  size_t keydata_len ;
  unsigned int issuer_key_type ; /* key type of the leaf's signer (BR_KEYTYPE_*), for EC client auth */
  unsigned char ecpub[BR_EC_KBUF_PUB_MAX_SIZE] ;  /* EC: the public key stored in the key file, if any */
  size_t ecpub_len ;             /* 0: the file has none */
} bsb_keypair ;

/* Loads kp->certfile (PEM or DER, chain leaf first) and kp->keyfile (PEM or
   DER; RSA, EC or unencrypted PKCS#8) into *out, and checks that the leaf's
   public key belongs to the private key. Returns 0; UST_EXIT_TLSCONF with
   *why naming the file and the reason; UST_EXIT_SYS when out of memory. On
   failure *out holds nothing to free. */
extern int bsb_load_keypair (tlsconf_keypair const *kp, bsb_keypair *out, char const **why) ;

/* Wipes the private key and frees everything kp holds (kp may be zeroed). */
extern void bsb_keypair_free (bsb_keypair *kp) ;

/* ---------------------------------------------------------------------- */
/* trust.c: trust anchors from CAFILE and CADIR. */

typedef struct bsb_trust_s {
  br_x509_trust_anchor *v ;  /* dn.data and key bytes malloc'd per anchor */
  size_t n ;
  size_t cap ;
} bsb_trust ;

#define BSB_TRUST_ZERO { .v = 0, .n = 0, .cap = 0 }

/* Loads every certificate of cafile (if not NULL) and of every regular file
   of cadir (if not NULL; names starting with '.' skipped, symlinks followed,
   files holding no certificate skipped) as trust anchors: CA anchors when the
   certificate says it is a CA, direct-trust anchors otherwise; duplicates are
   kept once. Returns 0 when at least one anchor was loaded; UST_EXIT_TLSCONF
   with *why naming the file and the reason (unreadable, invalid certificate,
   no anchor at all); UST_EXIT_SYS when out of memory. On failure t may hold
   anchors: bsb_trust_free it anyway. */
extern int bsb_load_trust (char const *cafile, char const *cadir, bsb_trust *t, char const **why) ;

/* Frees every anchor of t; t is then empty. */
extern void bsb_trust_free (bsb_trust *t) ;

/* ---------------------------------------------------------------------- */
/* x509.c: certificate validation that also records the peer's leaf. */

typedef struct bsb_x509_s {
  br_x509_class const *vtable ;      /* first: BearSSL calls through &vtable */
  br_x509_minimal_context minimal ;  /* does the actual validation */
  br_ssl_engine_context *eng ;       /* the engine, to adjust its flags */
  int optional_client_auth ;         /* server with an optional client certificate */
  unsigned int ncerts ;              /* certificates seen in the current chain */
  stralloc leaf ;                    /* DER of the chain's first certificate */
  int leaf_too_big ;
  int have_peer ;                    /* the last chain validated: hash and subject are set */
  char hash[72] ;                    /* "SHA256:<hex>" of the validated leaf */
  char subject[BSB_SUBJECT_MAX] ;    /* its subject, OpenSSL oneline form, or "" */
} bsb_x509 ;

/* Prepares x to validate chains against the anchors of t (which must outlive
   x) with the system clock, for the engine eng. If optional_client_auth, the
   engine is expected to run with BR_OPT_TOLERATE_NO_CLIENT_AUTH so that an
   empty client Certificate message is accepted: BearSSL then never calls the
   validator at all; x clears that flag as soon as a chain starts, so that a
   certificate that is presented must validate. Install x with
   br_ssl_engine_set_x509(eng, &x->vtable). */
extern void bsb_x509_init (bsb_x509 *x, bsb_trust const *t, br_ssl_engine_context *eng, int optional_client_auth) ;

/* Frees what x holds (the recorded leaf). */
extern void bsb_x509_free (bsb_x509 *x) ;

/* ---------------------------------------------------------------------- */
/* policy.c: the server's choice of certificate (SNI), cipher suite and signature. */

typedef struct bsb_policy_s {
  br_ssl_server_policy_class const *vtable ;  /* first: BearSSL calls through &vtable */
  tlsconf const *conf ;                       /* for tlsconf_select_keypair */
  bsb_keypair const *keypairs ;               /* loaded in the order of conf->keypairs */
  int chosen ;                                /* index of the pair used, or -1 */
  char reason[320] ;                          /* why choose() refused, or "" */
} bsb_policy ;

/* Prepares p to serve keypairs (parallel to conf->keypairs; both must outlive
   p). Its choose() picks the pair with tlsconf_select_keypair(conf, SNI name)
   (-1: the handshake fails with a handshake_failure alert, reason recorded),
   then the first ECDHE suite of the engine's list (server preference order)
   that fits the pair's key type, and the best common hash for the
   ServerKeyExchange signature. Install with br_ssl_server_set_policy(sc, &p->vtable). */
extern void bsb_policy_init (bsb_policy *p, tlsconf const *conf, bsb_keypair const *keypairs) ;

/* ---------------------------------------------------------------------- */
/* cache.c: SESSIONCACHE, the session cache the engine processes share. */

#define BSB_CACHE_SLOTS 4096   /* the file is at most 512 KiB */
#define BSB_CACHE_SLOT 128

typedef struct bsb_cache_s {
  br_ssl_session_cache_class const *vtable ;  /* first: BearSSL calls through &vtable */
  int fd ;                                    /* the cache file, or -1: no cache */
  bsb_policy const *policy ;                  /* which keypair a new session was made with */
  tlsconf const *conf ;
  bsb_keypair const *keypairs ;
  unsigned int lifetime ;                     /* SESSION_LIFETIME */
  unsigned int n ;                            /* keypairs */
  unsigned char bind[TLSCONF_KEYPAIRS_MAX][28] ;  /* per keypair: its certificate and the policy, hashed */
  int loaded ;                                /* load() found the session id below */
  unsigned char id[32] ;
  int keypair ;                               /* the keypair the loaded session was made with */
} bsb_cache ;

/* Opens conf->sessioncache (created 0600 if absent, checked as
   ust_secret_file_open does) for the n keypairs (keypairs and policy must
   outlive c). Install with br_ssl_server_set_cache(sc, &c->vtable). Returns
   0, or UST_EXIT_TLSCONF with *why. */
extern int bsb_cache_open (bsb_cache *c, tlsconf const *conf, bsb_keypair const *keypairs, unsigned int n, bsb_policy const *policy, char const **why) ;

/* After the handshake: 1 if the session was resumed from the cache (then
   c->keypair is the keypair it was made with), 0 if it was a full one. */
extern int bsb_cache_resumed (bsb_cache const *c, br_ssl_engine_context const *eng) ;

/* 1 if keypairs i and j hold the same certificate (and so the same binding). */
extern int bsb_cache_same_certificate (bsb_cache const *c, int i, int j) ;

/* Erases the slot of the session load() found: a refused resumption is
   not offered a second time. */
extern void bsb_cache_forget (bsb_cache *c) ;

/* Closes the cache file, if open. */
extern void bsb_cache_close (bsb_cache *c) ;

/* ---------------------------------------------------------------------- */
/* The session. */

/* The engine asks for a record header (5 bytes), then for the record body:
   two reads per record. Reading the network in big chunks and handing the
   engine what it asks for costs a memcpy instead of most of those syscalls. */
#define BSB_READAHEAD 65536

struct tlsb_s {
  tlsconf conf ;                   /* a copy: the caller's may go; its strings point into env/argv */
  int netr ;
  int netw ;
  union {
    br_ssl_server_context server ;
    br_ssl_client_context client ;
  } ctx ;
  br_ssl_engine_context *eng ;     /* &ctx.server.eng or &ctx.client.eng */
  bsb_x509 x509 ;
  bsb_policy policy ;              /* server only */
  bsb_cache cache ;                /* server only; cache.fd -1: no SESSIONCACHE */
  int resumed ;                    /* the handshake resumed a session (server: cached; client: offered) */
  sessionfile sfile ;              /* client only; sfile.fd -1: no SESSIONFILE */
  unsigned char offered_id[32] ;   /* client: the id of the session offered from it */
  size_t offered_id_len ;
  bsb_keypair keypairs[TLSCONF_KEYPAIRS_MAX] ;
  unsigned int nkeypairs ;         /* loaded pairs (server: all; client: 0 or 1) */
  bsb_trust trust ;
  unsigned char *iobuf ;           /* BR_SSL_BUFSIZE_BIDI bytes, then the read-ahead buffer */
  unsigned char *rahead ;          /* BSB_READAHEAD bytes read from the network, not yet given to the engine */
  size_t rpos ;                    /* rahead[rpos..rlen) is pending */
  size_t rlen ;
  size_t in_left ;                 /* bytes of the incoming record (header included) not yet given
                                      to the engine; 0: the next byte starts a record header */
  int handshake_done ;
  int close_sent ;                 /* br_ssl_engine_close was called */
  int write_failed ;               /* the network refused a write: nothing more can go out */
  char err[512] ;                  /* tlsb_errstr */
} ;

/* clientsession.c: SESSIONFILE on the client. */

/* Before the client's reset: sets in s->eng the session s->sfile holds,
   if any fits. Returns 1 if one was set (reset then with resumption). */
extern int bsb_client_session_offer (tlsb *s) ;

/* After the client's handshake: sets s->resumed if the server resumed the
   offered session, else keeps the new session in s->sfile. */
extern void bsb_client_session_done (tlsb *s) ;

/* setup.c: engine configuration (algorithms, suites, flags, buffer, reset). */

/* Configures s->ctx as a TLS 1.2 server for s->conf with s->keypairs loaded
   (and s->trust when client certificates are asked for), then resets it.
   Returns 0, or UST_EXIT_SETUP with *why set. */
extern int bsb_setup_server (tlsb *s, char const **why) ;

/* Configures s->ctx as a TLS 1.2 client verifying against s->trust, sending
   s->conf.servername as SNI (and checking it), presenting s->keypairs[0]
   when s->nkeypairs, then resets it. Returns 0, or UST_EXIT_SETUP with *why. */
extern int bsb_setup_client (tlsb *s, char const **why) ;

/* 1 if suite is one conf's TLS_CIPHERS offers and fits a key of key_type
   (BR_KEYTYPE_EC or BR_KEYTYPE_RSA): what a cached session may resume with. */
extern int bsb_suite_allowed (tlsconf const *conf, unsigned int suite, int key_type) ;

/* ---------------------------------------------------------------------- */
/* names.c: OpenSSL-style names. */

/* Returns the OpenSSL name of a TLS cipher suite ("ECDHE-RSA-AES128-GCM-SHA256"),
   or NULL if it is not one BearSSL can negotiate. */
extern char const *bsb_suite_name (unsigned int suite) ;

/* Returns the OpenSSL name of a protocol version ("TLSv1.2"), or NULL. */
extern char const *bsb_version_name (unsigned int version) ;

/* ---------------------------------------------------------------------- */
/* dn.c: Distinguished Names as text. */

/* Writes the text X509_NAME_oneline (OpenSSL 3) gives for the DER-encoded
   Name der (len bytes) into out (max > 0 bytes, always NUL-terminated):
   "/C=FR/O=Example/CN=host", one "/SN=value" per attribute in encoding order,
   "+SN=value" for the further attributes of a multi-valued RDN; short names
   for common attribute OIDs, dotted numbers for others; in values, '/' and
   '+' escaped as "\/" and "\+", bytes outside 0x20..0x7e as "\xHH", BMP and
   Universal strings narrowed when they hold Latin-1 only. The text stops
   before the first attribute that does not fit whole. Returns 0; -1 if der
   is not a valid Name, with out set to "". */
extern int bsb_dn_oneline (unsigned char const *der, size_t len, char *out, size_t max) ;

/* Where br_x509_decoder puts a certificate's subject DN: pass bsb_dn_append
   and a bsb_dn_sink (initialised with BSB_DN_SINK_ZERO) to
   br_x509_decoder_init; sa then holds the DER Name, unless nomem is set.
   stralloc_free(&sink.sa) afterwards. */
typedef struct bsb_dn_sink_s {
  stralloc sa ;
  int nomem ;
} bsb_dn_sink ;

#define BSB_DN_SINK_ZERO { .sa = STRALLOC_ZERO, .nomem = 0 }

/* Appends len bytes of DN to the bsb_dn_sink ctx (the decoder's callback). */
extern void bsb_dn_append (void *ctx, void const *data, size_t len) ;

/* ---------------------------------------------------------------------- */
/* info.c: names from the network. */

/* Copies src (NULL: "") into dst (max > 0 bytes, always NUL-terminated),
   truncating, with every byte outside 0x21..0x7e replaced by '?': an SNI
   name is whatever bytes the client sent, and none of its control bytes may
   reach a log line, an error message or an environment. */
extern void bsb_clean_name (char *dst, size_t max, char const *src) ;

/* ---------------------------------------------------------------------- */
/* errors.c: messages. */

/* Concatenates the NULL-terminated list of strings into a static buffer
   (truncated at 511 bytes) and returns it: for tlsb_new's *why, valid until
   the next call (tlsb_new fails once, then the process exits). */
extern char const *bsb_why (char const *first, ...) ;

/* Same, into s->err (tlsb_errstr). */
extern void bsb_error (tlsb *s, char const *first, ...) ;

/* Sets s->err to what the engine's last error means, in words: the policy's
   reason when it refused the handshake, the peer's alert, certificate
   rejections named after whose certificate it was. */
extern void bsb_error_engine (tlsb *s) ;

/* Returns words for a BearSSL error code (BR_ERR_*, BR_ERR_X509_*), or NULL
   for codes without a description (alerts are described by bsb_error_engine). */
extern char const *bsb_error_words (int err) ;

#endif

/* tlsb.h: the one interface between the shared engine loop and a TLS library.
   Only src/backend/<name>/ implements it; only those files include a TLS header.

   Model: one session per process. Every call is a non-blocking step: it does
   what it can with the network fds (which the engine has put in O_NONBLOCK
   mode), and says what it waits for. The engine owns all plaintext buffers and
   the event loop; a backend never loops waiting for the network, never sleeps,
   and never reaches into a TLS library's private structures. */
#ifndef UST_TLSB_H
#define UST_TLSB_H

#include <stddef.h>
#include "tlsconf.h"
#include "tlsinfo.h"

typedef enum tlsb_status_e {
  TLSB_DONE = 0,     /* the step completed (see each function) */
  TLSB_WANT_READ,    /* call the same function again once the network read fd is readable */
  TLSB_WANT_WRITE,   /* call the same function again once the network write fd is writable */
  TLSB_EOF,          /* tlsb_read: the peer sent close_notify; no more data will come */
  TLSB_EOF_UNCLEAN,  /* tlsb_read: the network read side hit EOF without close_notify */
  TLSB_ERROR         /* fatal: the session is unusable; tlsb_errstr() says why */
} tlsb_status ;

typedef struct tlsb_s tlsb ;

/* Backend name for logs and usage: "bearssl" or "libtls". */
extern char const *const tlsb_name ;

/* The longest server name a client may send (RFC 6066 allows more, but
   neither BearSSL nor OpenSSL sends a longer one). */
#define TLSB_SERVERNAME_MAX 255

/* Creates the session for conf with the network on netr (read) and netw
   (write). conf and the strings it points to (names in the environment and
   argv) must outlive the session. Reads every file conf names (certificates, keys, trust anchors)
   now, so that the caller can drop privileges right after. A server with
   SNI pairs may load all of them here. On success stores the session in *s
   and returns 0. On failure frees everything it made and returns
   UST_EXIT_TLSCONF (unreadable or invalid key, certificate or trust
   anchors), UST_EXIT_SETUP (library init failure), UST_EXIT_USAGE (a client
   conf->servername longer than TLSB_SERVERNAME_MAX bytes), or UST_EXIT_SYS
   (out of memory), with *why set to a message valid until exit that names
   the file and the reason. */
extern int tlsb_new (tlsb **s, tlsconf const *conf, int netr, int netw, char const **why) ;

/* Advances the handshake. TLSB_DONE once it is complete (then the other
   calls may be used); TLSB_WANT_*; or TLSB_ERROR (including certificate
   verification failure and a peer closing during the handshake). */
extern tlsb_status tlsb_handshake (tlsb *s) ;

/* Reads decrypted application data into buf (len > 0). TLSB_DONE with
   *got > 0 bytes; TLSB_WANT_* with *got == 0; TLSB_EOF / TLSB_EOF_UNCLEAN
   at the end of the peer's data; TLSB_ERROR. A backend may need to write
   to the network to read (e.g. key updates): it then says TLSB_WANT_WRITE.
   The end of the peer's data ends nothing else: tlsb_write keeps working
   until tlsb_close_notify, so that replies still reach a peer that sent
   its last request and close_notify together. (BearSSL, which would answer
   a close_notify at once and send nothing after it, reports TLSB_EOF when
   the next record is an alert and leaves that record unread: after the
   handshake, any alert, still encrypted, counts as the peer closing.) */
extern tlsb_status tlsb_read (tlsb *s, char *buf, size_t len, size_t *got) ;

/* Encrypts application data from buf (len > 0). TLSB_DONE with *put > 0
   bytes taken (possibly fewer than len); the caller must not offer them
   again. TLSB_WANT_* with *put == 0: call again with the same buf and len.
   Records produced may stay buffered inside the backend: tlsb_flush pushes
   them out. TLSB_ERROR (including the peer having closed the connection). */
extern tlsb_status tlsb_write (tlsb *s, char const *buf, size_t len, size_t *put) ;

/* Writes to the network every record already produced. TLSB_DONE when
   nothing is pending; TLSB_WANT_WRITE; TLSB_ERROR. */
extern tlsb_status tlsb_flush (tlsb *s) ;

/* Returns 1 if the backend holds encrypted output not yet written to the
   network (the engine then waits for the network write fd). */
extern int tlsb_pending_output (tlsb const *s) ;

/* Sends close_notify (once) and flushes it. TLSB_DONE when it is on the
   wire; TLSB_WANT_*; TLSB_ERROR. After this, tlsb_write must not be called;
   tlsb_read may still be called to drain the peer's data, which a backend
   may discard (BearSSL does: TLS 1.2 closes both directions, RFC 5246
   7.2.1; libtls delivers it, as TLS 1.3 closes one direction only). */
extern tlsb_status tlsb_close_notify (tlsb *s) ;

/* Describes the established session (call after the handshake is done):
   protocol, cipher, SNI name (server: what the client asked for; client:
   what was sent), peer certificate hash and subject when a peer certificate
   was presented. Unknown fields are left "". */
extern void tlsb_info (tlsb const *s, tlsinfo *info) ;

/* 1 if the established session was resumed (SESSIONCACHE), 0 if it had a
   full handshake. */
extern int tlsb_resumed (tlsb const *s) ;

/* Why the last call failed, for logs. Never NULL. */
extern char const *tlsb_errstr (tlsb const *s) ;

/* Releases the session. Does not close the network fds. */
extern void tlsb_free (tlsb *s) ;

#endif

/* tlsinfo.h: what is known about an established TLS session, and the info block
   that carries it (DESIGN.md §3): NAME=value\0 ... \0. */
#ifndef UST_TLSINFO_H
#define UST_TLSINFO_H

#include <stddef.h>

#define TLSINFO_BLOCK_MAX 4096

/* Every field is a NUL-terminated string; "" means unknown. */
typedef struct tlsinfo_s {
  char protocol[16] ;            /* SSL_PROTOCOL: "TLSv1.2", "TLSv1.3" */
  char cipher[64] ;              /* SSL_CIPHER: OpenSSL-style name */
  char sni[256] ;                /* SSL_TLS_SNI_SERVERNAME */
  char peer_cert_hash[72] ;      /* SSL_PEER_CERT_HASH: "SHA256:" + 64 lowercase hex */
  char peer_cert_subject[1024] ; /* SSL_PEER_CERT_SUBJECT: "/C=../O=../CN=.." */
} tlsinfo ;

/* Writes the info block for info into buf (at most max bytes): one
   NAME=value\0 per known field, then \0. Returns the length, or 0 if max is
   too small. Values containing NUL cannot occur (they are C strings). */
extern size_t tlsinfo_block_make (tlsinfo const *info, char *buf, size_t max) ;

/* Scans len bytes of a block. Returns the length of the complete block
   (through its terminating \0\0, or a lone \0 for an empty block) if the
   terminator is in the first len bytes, 0 if more bytes are needed, or -1
   if the bytes can never form a block (an empty name, "=" with no name). */
extern long tlsinfo_block_complete (char const *buf, size_t len) ;

/* Parses a complete block (as measured by tlsinfo_block_complete) into info.
   Known names fill the fields (truncated to their size); bare NAME entries
   mean unset; unknown names are ignored. Returns 0, or -1 if malformed. */
extern int tlsinfo_block_parse (char const *buf, size_t len, tlsinfo *info) ;

/* Formats "SHA256:" + lowercase hex of sha256(der) into out (72 bytes). */
extern void tlsinfo_hash_cert (char const *der, size_t len, char out[72]) ;

#endif

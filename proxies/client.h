/* client.h: the client-side STARTTLS framework (smtpc-, imapc-,
   pop3c-starttls). The program runs under ucspitlsc with the server on
   descriptors 6/7. It speaks the protocol's dialogue before TLS itself
   (greeting, capabilities, STARTTLS), starts TLS with 'Y', checks what was
   verified, and only then lets the plaintext client (on 0/1, or a program
   given on the command line, on its 6/7) talk to the server inside TLS.
   The client sees nothing the server said in cleartext but its greeting;
   without TLS it sees the protocol's refusal, never the server. */
#ifndef UST_CLIENT_H
#define UST_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <skalibs/stralloc.h>
#include "tlsinfo.h"
#include "ust.h"

#define CP_PINS_MAX 4
#define CP_REPLY_LINES_MAX 256   /* lines of one multi-line reply before TLS */
#define CP_BUF 65536             /* read buffer of the dialogue, and of each side of the relay */

/* How the dialogue before TLS ended. */
typedef enum cp_verdict_e {
  CP_OK,            /* a step went well */
  CP_START_TLS,     /* the STARTTLS success reply was the last byte the server sent */
  CP_NOT_OFFERED,   /* the server's capabilities hold no STARTTLS / STLS */
  CP_REFUSED,       /* the server answered STARTTLS with an error */
  CP_INJECTION,     /* bytes followed the success reply: never read, never given */
  CP_BAD_SERVER,    /* a greeting or reply the protocol forbids, an overlong line, NUL */
  CP_GONE,          /* EOF from the server */
  CP_TIMEOUT,       /* a reply did not come within -w */
  CP_IOERR          /* a system error (errno) */
} cp_verdict ;

/* A line reader over one descriptor, with a deadline per reply. fill is
   read(2) with poll(2), or the fuzz harness's chunks. */
typedef struct cp_reader_s {
  char buf[CP_BUF] ;
  size_t start, end ;
  size_t line_max ;
  unsigned int step_ms ;     /* -w: for each reply, from the command sent (or the start, for the greeting) */
  struct timespec t0 ;       /* when the reply awaited began to be due */
  int fd ;
  /* reads at most max bytes within ms: >0 bytes, 0 EOF, -1 error (errno, ETIMEDOUT) */
  long (*fill) (void *ctx, int fd, char *buf, size_t max, unsigned int ms) ;
  /* writes all of len bytes or fails: 0 or -1 */
  int (*put) (void *ctx, int fd, char const *s, size_t len) ;
  /* 1 if fd has bytes to read now (the injection check), 0 if not */
  int (*ready) (void *ctx, int fd) ;
  void *ctx ;
} cp_reader ;

/* The dialogue's state: one reader on the server, what the client will see
   first, and why it failed. */
typedef struct cp_dialog_s {
  cp_reader r ;
  int wfd ;                  /* the server's write side */
  char const *ehlo_name ;    /* SMTP */
  stralloc greeting ;        /* what the client sees first, once TLS is up */
  char why[256] ;            /* for the log: what the server did */
  int tls_caps_after ;       /* 1 if the server still offered STARTTLS inside TLS */
} cp_dialog ;

/* Reads one line, LF included, into *line and *len (valid until the next
   call), within what is left of -w for the reply awaited (cp_send and
   cp_reader_fd start it: a server that trickles cannot stretch it).
   Returns CP_OK, or CP_GONE, CP_TIMEOUT,
   CP_IOERR, CP_BAD_SERVER (over line_max, or a NUL). */
extern cp_verdict cp_line (cp_dialog *d, char const **line, size_t *len) ;
extern cp_verdict cp_send (cp_dialog *d, char const *s) ;
/* The success reply was just read: CP_OK if the server sent nothing
   after it (nothing buffered, nothing readable), else CP_INJECTION. */
extern cp_verdict cp_nothing_after (cp_dialog *d) ;
/* Sets d->why to the parts (truncated, control bytes shown as '?'). */
extern void cp_why (cp_dialog *d, char const *a, char const *b, size_t blen) ;
/* Puts prefix before what d->why says. */
extern void cp_why_before (cp_dialog *d, char const *prefix) ;

/* The default I/O of a reader: poll(2) and read(2)/write(2) on real descriptors. */
extern void cp_reader_fd (cp_reader *r, int fd, size_t line_max, unsigned int step_ms) ;

/* The post-TLS rewriting of the server's bytes for the client (a stream:
   any chunking gives the same output). */
typedef struct cp_filter_s {
  int kind ;                 /* CP_FILTER_NONE, _SMTP, _IMAP */
  stralloc line ;            /* the line being gathered */
  stralloc held ;            /* SMTP: the last continuation line, not yet given */
  size_t line_max ;
  int raw ;                  /* passing an overlong line through untouched, to its LF */
  int bol ;                  /* IMAP: the next line starts a response (not the rest after a literal) */
  uint64_t literal ;         /* IMAP: literal bytes still to pass untouched */
  char tail[24] ;            /* IMAP: the last bytes of an overlong line, for its literal */
  size_t tlen ;
  unsigned int dropped ;     /* capabilities taken out */
  int cleartext ;            /* IMAP under -O without TLS: LOGINDISABLED is the server's truth and stays */
} cp_filter ;

enum { CP_FILTER_NONE, CP_FILTER_SMTP, CP_FILTER_IMAP } ;

extern void cp_filter_init (cp_filter *f, int kind, size_t line_max) ;
/* Appends to out what the client gets of len more server bytes. */
extern void cp_filter_feed (cp_filter *f, char const *in, size_t len, stralloc *out) ;
/* The server's EOF: appends what is still held. */
extern void cp_filter_end (cp_filter *f, stralloc *out) ;
extern void cp_filter_free (cp_filter *f) ;

/* The rules themselves, for the dialogues before TLS too. */
/* SMTP: is the line "250-STARTTLS" or "250 STARTTLS" (the EHLO keyword)? */
extern int cp_smtp_starttls_line (char const *s, size_t n) ;
/* IMAP: appends the response line s to out, without STARTTLS and
   LOGINDISABLED if it is a capability list (an untagged CAPABILITY, or a
   [CAPABILITY ...] code in a status response), counting them in *dropped
   and the STARTTLS ones in *starttls. Returns 1 if it was such a list.
   With starttls NULL only STARTTLS is taken out: a session in cleartext
   (-O) keeps LOGINDISABLED, which stops the client sending its password
   in the clear. */
extern int cp_imap_response (char const *s, size_t n, stralloc *out, unsigned int *dropped, unsigned int *starttls) ;

/* One protocol. */
typedef struct cp_protocol_s {
  char const *name ;         /* "smtp" */
  char const *verb ;         /* "STARTTLS", "STLS" */
  int filter ;               /* CP_FILTER_* */
  size_t line_max ;          /* default -l */
  unsigned int idle_ms ;     /* default -t */
  /* greeting, capabilities, STARTTLS: CP_START_TLS, or why not */
  cp_verdict (*dialogue) (cp_dialog *d) ;
  /* once TLS is up, before the client is let in (SMTP's EHLO); may be NULL */
  cp_verdict (*after_tls) (cp_dialog *d) ;
  /* the protocol's goodbye to a client whose session cannot go on, before
     its text: "421 4.7.0 ", "* BYE ", "-ERR " */
  char const *refusal ;
} cp_protocol ;

extern void cp_smtp (cp_protocol *p) ;
extern void cp_imap (cp_protocol *p) ;
extern void cp_pop3 (cp_protocol *p) ;

/* Helpers for the protocol files. */
extern int cp_casestart (char const *s, size_t len, char const *prefix) ;  /* case-insensitive prefix */
/* Appends a line of the server's for the client: printable ASCII only (any
   other byte shown as '?'), ended by CRLF, whatever ended it. */
extern void cp_clean_line (stralloc *out, char const *s, size_t n) ;

/* The whole program: command line, dialogue, handoff, relay. */
extern int cp_main (cp_protocol const *proto, char const *name, int argc, char const *const *argv, char const *const *envp) ;

#endif

/* backend_model.h: models of real servers' framing for the proxy fuzz
   targets (issue 13). Each model is a backend that reads exactly the bytes
   the proxy forwarded and sees exactly the reply lines the proxy read, and
   frames the commands as one kind of real server would (strict RFC, bare CR
   as a line end, verbs split at any blank, lenient end of data, literal
   markers anywhere...). The proxy promises (doc/guarantees.md, "The
   backend's state at STARTTLS: known, not guessed") that when it accepts
   STARTTLS every such server is at a command boundary and has framed the
   very commands the proxy forwarded and had answered: the harness asks
   bmodel_check at that moment, which abort()s on any disagreement.

   Replies only decide what a server does next where a real one decides on
   its own reply (354 to DATA, 334 to AUTH, "+" to a literal, CHUNKING in the
   EHLO reply); the check itself is on command framing alone: the fuzzed
   backend's replies say nothing about what a real one would answer. */
#ifndef UST_BACKEND_MODEL_H
#define UST_BACKEND_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* Framings every protocol's models share. */
#define BM_EOL_LF 0          /* a line ends at LF (a CR before it is no content) */
#define BM_EOL_CRLF 1        /* a line ends at CRLF only: a bare LF or CR is content */
#define BM_EOL_CR 2          /* a line ends at LF or at a bare CR; CRLF is one end */
#define BM_EOL 3
#define BM_BLANKS 4          /* words are split at any run of blanks (SP HT VT FF CR), leading blanks skipped */
#define BM_PROTO 8           /* the first bit a protocol file may use */

typedef struct bmodel_s bmodel ;

typedef struct bmodel_variant_s {
  char const *name ;
  unsigned int flags ;
} bmodel_variant ;

/* A protocol's models: its variants and how one frames. */
typedef struct bmodel_protocol_s {
  char const *name ;
  bmodel_variant const *variants ;
  unsigned int n ;
  /* Frames what it can of the len bytes at s, which start at the stream
     offset m->off: returns how many it consumed (bmodel_take moves off),
     stopping at a line not ended yet or at a reply it must wait for. */
  size_t (*frame) (bmodel *m, char const *s, size_t len) ;
  /* A backend line, as the proxy framed it (a piece when it has no LF). */
  void (*reply) (bmodel *m, char const *line, size_t len) ;
  /* Is the protocol state a command boundary: no data, exchange or reply awaited? */
  int (*boundary) (bmodel const *m) ;
  char const *(*state_name) (bmodel const *m) ;
} bmodel_protocol ;

struct bmodel_s {
  bmodel_protocol const *proto ;
  char const *name ;
  unsigned int v ;            /* the variant's flags */
  stralloc in ;               /* forwarded bytes not framed yet: a partial line, or what waits for a reply */
  size_t scanned ;            /* bytes of the line not ended yet at offset scan_at that hold no line end */
  uint64_t scan_at ;
  uint64_t off ;              /* the stream offset of the next byte to frame */
  int cr ;                    /* BM_EOL_CR: the last line ended at a CR, an LF now is part of that end */
  int open ;                  /* a command has begun and is not complete */
  uint64_t commands ;         /* complete commands framed: each owes one reply */
  uint64_t hash ;             /* of the offsets where they began: two models agree on the set */
  int state ;                 /* the protocol's */
  int wait ;                  /* what a blocked model waits for */
  uint64_t k ;                /* the command whose reply that is */
  uint64_t n ;                /* data bytes still to come (a chunk, a literal) */
  int data ;                  /* a body scanner's state */
  int64_t ehlo ;              /* SMTP: the last EHLO (its index), -1 none, -2 HELO */
  stralloc log ;              /* replies seen, one byte each (SMTP), kinds awaited (POP3) */
  size_t head ;               /* POP3: the first kind still awaited in log */
  int rcont, rpiece ;         /* the reply reader: the next line continues one (a literal), the last had no LF */
  int rgreeted ;              /* the greeting came */
  int rfinal, rwell, rchunk, rlines ;  /* SMTP replies: this line is final, the reply is well formed, lists CHUNKING, lines so far */
  size_t rlen ;               /* SMTP replies: the current line's length so far */
  char rcode[3], rfirst ;     /* SMTP replies: the current line's code, the reply's first byte */
  int rmulti ;                /* POP3: inside a multi-line reply */
  char tag[64] ;              /* IMAP: the command's tag ("" if it can match no reply's) */
  int raw ;                   /* IMAP: the command is AUTHENTICATE or IDLE */
  int cont ;                  /* IMAP: the next line continues the command (after a literal) */
} ;

extern bmodel_protocol const bmodel_smtp, bmodel_imap, bmodel_pop3 ;

/* The models of one session; all calls are no-ops while none is open. */
extern void bmodel_open (bmodel_protocol const *proto) ;
extern void bmodel_close (void) ;
extern int bmodel_on (void) ;
extern void bmodel_forwarded (char const *s, size_t len) ;
extern void bmodel_reply (char const *line, size_t len) ;
/* The proxy accepts STARTTLS having forwarded commands commands, all answered. */
extern void bmodel_check (uint64_t commands) ;
extern size_t bmodel_memory (void) ;  /* what the models hold (the harness's memory bound leaves it out) */

/* For the protocol files. */
extern void bmodel_take (bmodel *m, size_t *pos, size_t n) ;          /* consumes n bytes of what frame got */
extern void bmodel_skip_lf (bmodel *m, char const *s, size_t len, size_t *pos) ;  /* the LF of a CRLF whose CR ended a line */
extern void bmodel_begin (bmodel *m) ;     /* a command begins at m->off */
extern void bmodel_complete (bmodel *m) ;  /* the command is complete: it owes a reply */
/* The line at s[*pos] by the model's rule: 1 and its content (without its
   end) in *line, *clen, having consumed it; 0 if it has not ended yet. With
   cut, a line longer than cut bytes (its end included) is cut bytes, then
   another. */
extern int bmodel_line (bmodel *m, char const *s, size_t len, size_t *pos, size_t cut, char const **line, size_t *clen) ;
/* The word of line (clen bytes) at *i by the model's rule (SP, or any
   blanks with BM_BLANKS), moving *i past it and the blank after it. */
extern size_t bmodel_word (bmodel const *m, char const *line, size_t clen, size_t *i, char const **w) ;
extern int bmodel_is (char const *w, size_t n, char const *word) ;    /* case-insensitively */
extern int bmodel_blank (char c) ;

#endif

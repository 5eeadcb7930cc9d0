/* proxy-internal.h: the framework's state, shared by its own files only. */
#ifndef UST_PROXY_INTERNAL_H
#define UST_PROXY_INTERNAL_H

#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "proxy.h"
#include "ucspitls.h"

#define PROXY_INBUF 65536          /* read buffer of each side */
#define PROXY_OUT_HIGH 262144      /* stop producing for a side whose queue holds this much */
#define PROXY_PENDING_MAX 512      /* replies due before the client is not read any more */

/* Bytes read from one side, not yet handled: [start, end). */
typedef struct inbuf_s {
  char data[PROXY_INBUF] ;
  size_t start, end ;
} inbuf ;

/* Bytes queued for one side: [pos, s.len). */
typedef struct outq_s {
  stralloc s ;
  size_t pos ;
} outq ;

typedef enum client_mode_e { MODE_LINES, MODE_LITERAL, MODE_STREAM } client_mode ;

typedef enum tls_state_e {
  TLS_UNAVAILABLE,   /* no controller, or it went away */
  TLS_OFFERED,       /* may still be started */
  TLS_STARTING,      /* success reply queued: flush, then hand off */
  TLS_ACTIVE,
  TLS_DECLINED
} tls_state ;

struct proxy_s {
  proxy_protocol const *proto ;
  proxy_options const *o ;
  int cin, cout, bin, bout ;         /* descriptors; -1 once closed */
  inbuf cbuf, bbuf ;
  outq to_client, to_backend ;
  client_mode cmode ;
  size_t line_max ;                  /* longest client line now accepted */
  uint64_t cliteral, bliteral ;      /* literal bytes still to pass through */
  int cliteral_discard ;             /* the client literal is dropped, not forwarded */
  int discarding ;                   /* dropping the rest of an overlong client line */
  int client_held ;
  int client_eof, backend_eof ;
  int backend_spoke ;                /* a byte came from the backend */
  int backend_midline ;              /* its last byte so far ended no line */
  int closing ;                      /* flush to the client, then end */
  int exitcode ;
  pid_t backend_pid ;                /* our parent: the backend keeps the connection's pid */
  int backend_pidfd ;                /* a pidfd for it, or -1 (then getppid tells) */
  int grace_spent ;                  /* the backend had its -g after the client left, and goes on */
  size_t line_end ;                  /* while a client line is being handled: where it ends in cbuf */
  int *fifo ;                        /* kinds of replies due: ring buffer */
  unsigned int fifo_size, fifo_head, fifo_len ;
  tls_state tls ;
  int backend_caps ;                 /* 0: unseen, 1: seen and clean, 2: the backend advertised TLS itself */
  int direct ;                       /* the engine took the backend's pipes: we are out of the data path */
  void *state ;                      /* the protocol's per-session state */
  int desync ;                       /* the backend's replies did not match the commands forwarded: no TLS any more */
  ucspitls u ;
  tlsinfo info ;
  unsigned int commands, injections ;
  unsigned int traced ;              /* commands + 1 once the line being handled was traced */
} ;

/* proxy_frame.c: framing and dispatch over what was read, no descriptors. */
extern size_t proxy_queued (outq const *q) ;           /* bytes of q not yet written */
extern void proxy_sent (outq *q, size_t n) ;           /* n bytes of q were written */
extern int proxy_client_step (proxy *p) ;              /* handles one framed unit of client input: 0 if none can be now */
extern int proxy_backend_step (proxy *p) ;             /* same, of backend input */
extern void proxy_inbuf_compact (inbuf *b) ;           /* makes room at the end of b, if it can */
extern int proxy_client_eof_due (proxy *p) ;           /* drops an unterminated last line; 1 if the client's EOF must go to the backend now */
extern int proxy_handoff_due (proxy const *p) ;        /* the success reply is written: hand off now */
extern int proxy_session_over (proxy const *p) ;       /* nothing more will happen */
extern int proxy_client_wanted (proxy const *p) ;      /* the client may be read now */
extern int proxy_backend_wanted (proxy const *p) ;     /* the backend may be read now */
extern int proxy_client_partial (proxy const *p) ;     /* a command line has begun and is being read */

/* proxy_loop.c: runs the session until it ends; returns the exit code. */
extern int proxy_loop (proxy *p) ;

/* proxy_handoff.c: flushes nothing itself; clears O_NONBLOCK on 0/1, sends Y,
   reads the info block, and moves the client side to the engine's pipes.
   Returns 0, 1 when the direct handoff gave the backend's pipes to the
   engine (the proxy's work is done), or -1 (logged) when the session must end. */
extern int proxy_handoff (proxy *p) ;
extern void proxy_drop_socket (void) ;                 /* 0 and 1 become /dev/null */

#endif

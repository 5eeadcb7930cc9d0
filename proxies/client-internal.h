/* client-internal.h: the client proxies' session, shared by client_main.c
   and client_relay.c only. */
#ifndef UST_CLIENT_INTERNAL_H
#define UST_CLIENT_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include "client.h"
#include "ucspitls.h"

typedef struct cp_options_s {
  unsigned int idle_ms ;      /* -t: the relay's idle deadline */
  unsigned int step_ms ;      /* -w: each reply of the dialogue before TLS */
  unsigned int handshake_ms ; /* -K: the handshake, up to the info block */
  unsigned int grace_ms ;     /* -g: the server after the client's EOF; the program after the session */
  unsigned int verbosity ;    /* -v */
  size_t line_max ;           /* -l */
  int opportunistic ;         /* -O: go on in cleartext when the server offers no TLS */
  char const *ehlo_name ;     /* -h */
  char pins[CP_PINS_MAX][72] ;/* -p: "SHA256:" + lowercase hex */
  unsigned int npins ;
} cp_options ;

typedef struct cp_session_s {
  cp_protocol const *proto ;
  cp_options o ;
  cp_dialog d ;
  cp_filter filter ;
  ucspitls u ;
  tlsinfo info ;
  int cin, cout ;             /* the plaintext client */
  int sin, sout ;             /* the server: 6/7 before TLS (and in cleartext), the engine's pipes in TLS */
  int tls ;                   /* 1 once TLS is up */
  int client_eof ;
  pid_t prog_pid ;            /* the program given on the command line (our parent), or 0 */
  int prog_pidfd ;
  uint64_t to_server, to_client ;
} cp_session ;

/* "prog: info: IP: " a b, when verbosity >= level */
extern void cp_log (cp_session const *c, unsigned int level, char const *a, char const *b) ;
extern int cp_relay (cp_session *c) ;

#endif

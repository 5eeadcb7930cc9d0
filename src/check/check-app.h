/* check-app.h: one application-mode session of ucspitls-check, shared by
   check_app.c (prog and the cleartext relay) and check_handoff.c (the
   command, the engine and what prog does after). */
#ifndef UST_CHECK_APP_H
#define UST_CHECK_APP_H

#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "check.h"

typedef struct check_app_s {
  check_options const *o ;
  check_report *r ;
  char const *const *envp ;
  pid_t prog ;          /* what we forked and exec'd */
  pid_t cmdpid ;        /* who sent the command byte (SCM_CREDENTIALS), else prog */
  int net ;             /* our end of prog's network socketpair */
  int netapp ;          /* our copy of prog's end, until the command: its queue and flags are prog's */
  int ctl ;             /* our end of the control socket; -1 once closed */
  int appfd[3] ;        /* the numbers prog got: SSLCTLFD, SSLREADFD, SSLWRITEFD */
  int appr, appw ;      /* our copies of prog's pipe ends, until the command */
  int engr, engw ;      /* the engine's pipe ends */
  stralloc cin ;        /* the client's bytes, from offset cbase */
  size_t cbase, c2p, cscan ;  /* absolute offsets: written to prog, scanned for lines */
  unsigned int clines ;
  int client_eof, client_tls ;
  unsigned long client_tls_ms ;
  stralloc pout ;       /* prog's bytes, from offset pbase */
  size_t pbase, p2c ;   /* absolute: written to the client */
  int prog_eof, net_shut, client_shut, declined ;
  int stls ;            /* a STARTTLS/STLS line was given to prog: */
  size_t stls_end ;     /* client offset just after it */
  size_t stls_out ;     /* prog's output offset when it was given */
  unsigned int stls_lineno ;
  char stls_tag[64] ;   /* the IMAP tag, or "" */
  char command ;
} check_app ;

/* The relay before the command (and after a decline). Returns 1 when a
   command byte came (a->command, a->cmdpid set), 0 when prog closed
   SSLCTLFD (a->declined), 2 when the session ended, 3 when the client began
   TLS and no command followed within the bound. */
extern int check_app_relay (check_app *a) ;

/* Everything from the command byte on: measures, runs the engine on the
   client socket, watches prog, reports. */
extern void check_app_handoff (check_app *a) ;

/* The end of prog's reply to the last STARTTLS line (absolute offset in its
   output, past the final line's \n), or 0 if it is not complete. */
extern size_t check_app_reply_end (check_app const *a) ;

#endif

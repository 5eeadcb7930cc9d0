/* proxy_harness.h: runs the proxy framework (proxy_api.c, proxy_frame.c) and
   one protocol file in-process for libFuzzer: no processes, no descriptors
   but a pipe standing for the controller. The harness is the kernel: it holds
   what each side sent until the framework would read it, and takes what the
   framework queued when the fuzz input says a side reads. It checks the
   rules of DESIGN.md §5 on the way and abort()s when one breaks; with the
   target's backend models (backend_model.h), also that at an accepted
   STARTTLS every real server's framing agrees with the proxy's. */
#ifndef UST_PROXY_HARNESS_H
#define UST_PROXY_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "proxy.h"
#include "backend_model.h"

typedef struct harness_target_s {
  void (*protocol) (proxy_protocol *proto, size_t line_max) ;
  size_t line_max ;          /* the program's default -l */
  size_t line_min ;          /* its smallest -l */
  char const *verb ;         /* STARTTLS or STLS */
  int tagged ;               /* IMAP: the verb is the command's second word */
  char const *ok_reply ;     /* how the success reply ends */
  bmodel_protocol const *model ;  /* real servers' framings checked at an accepted STARTTLS, or NULL */
  char const *try_tls ;      /* with a model: the client's STARTTLS line that ends every input of harness_run */
  char const *probe_ok ;     /* the backend's success reply to the proxy's probe, if it sends one */
  char const *any_reply ;    /* a backend reply that completes whatever command awaits one, or NULL */
} harness_target ;

/* Options of a session, from the input's first byte. */
#define HARNESS_REQUIRE_TLS 1  /* -T */
#define HARNESS_NO_TLS 2       /* no controller */
#define HARNESS_SHORT_LINES 4  /* -l at its smallest */
#define HARNESS_HANDSHAKE_FAILS 8
#define HARNESS_CAPTURE 16     /* keep the whole of both output streams (harness_client_seen...) */

extern void harness_open (harness_target const *t, unsigned int options) ;
extern void harness_close (void) ;
extern int harness_over (void) ;  /* the session ended */

/* Events; each is followed by everything the framework can do without the kernel. */
extern void harness_client_sends (char const *s, size_t len) ;
extern void harness_backend_sends (char const *s, size_t len) ;
extern void harness_client_reads (size_t max) ;
extern void harness_backend_reads (size_t max) ;
extern void harness_client_eof (void) ;
extern void harness_backend_eof (void) ;
extern void harness_controller_dies (void) ;
extern void harness_idle_timeout (void) ;

/* With HARNESS_CAPTURE: everything each side read so far. */
extern char const *harness_client_seen (size_t *len) ;
extern char const *harness_backend_seen (size_t *len) ;
extern int harness_tls (void) ;     /* 1 once TLS runs */
extern unsigned int harness_pending (void) ;

/* The input format of fuzz_smtp, fuzz_imap, fuzz_pop3: an options byte, then
   events, each an op byte (low 3 bits: what; high bits: flags) and its
   argument; see proxy_harness.c. With try_tls, every input ends with that
   STARTTLS (after any_reply to whatever awaits one, and with the probe's
   success), so that wherever a session ends, the backend models are
   checked there if the proxy accepts. */
extern int harness_run (harness_target const *t, uint8_t const *data, size_t size) ;

#endif

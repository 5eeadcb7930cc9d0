/* wrapper.h: what tlsd, tlsc, ucspitlsd and ucspitlsc share: their options
   (most are handed to the engine verbatim) and how they spawn it. */
#ifndef UST_WRAPPER_H
#define UST_WRAPPER_H

#include "tlsconf.h"

#define WRAPPER_ENGINE_ARGS_MAX 40

typedef struct wrapper_s {
  tlsconf_role role ;
  char const *engine_args[WRAPPER_ENGINE_ARGS_MAX] ;  /* options for the engine, in order */
  unsigned int nengine_args ;
  int keep_tls_vars ;         /* -Z: prog sees CERTFILE, KEYFILE... (default -z: stripped) */
  int netr, netw ;            /* network fds: 0/1 (server) or -6/-7 (client, default 6/7) */
  unsigned int handshake_ms ; /* -K as given, for the wrapper's own deadline */
  unsigned int verbosity ;
  unsigned int grace_ms ;     /* -g (server): how long the application may outlive its session */
  char fdbuf[2][16] ;         /* storage for the engine's -6/-7 arguments */
} wrapper ;

/* Parses the common options of a wrapper (usage is the synopsis for errors).
   Returns the index in argv of prog; dies with exit 100 on bad usage or a
   missing prog. */
extern int wrapper_options (wrapper *w, int argc, char const *const *argv, tlsconf_role role, char const *usage) ;

/* Execs the engine ("tlsd-io" or "tlsc-io" per w->role) with the collected
   options, notif (-d, or -1 for none), and the cleartext fds fdr fdw,
   after forking the watch of the application app (wrapper_watch_spawn).
   Clears O_NONBLOCK on the network fds first. Never returns: dies 111. */
extern void wrapper_exec_engine (wrapper const *w, int app, int notif, int fdr, int fdw, char const *const *envp) __attribute__((noreturn)) ;

/* Server role: forks the watch of the application (app, our parent's pid
   taken before the fork that made us; if our parent is another process
   now, the application is gone and nothing is watched): once the
   engine (this process, after its exec) is gone, the application has
   w->grace_ms to end, then SIGTERM, then SIGKILL (ust_end_process). The
   watch holds no descriptor of the session. Nothing in the client role:
   there the application is the user's program, whose life is its own. */
extern void wrapper_watch_spawn (wrapper const *w, int app) ;

/* Builds prog's environment into out (max entries, NULL included): envp
   minus the TLS configuration variables unless w->keep_tls_vars and minus
   stale SSL* entries, then the extra entries (NULL-terminated, may be NULL).
   Returns the count, or -1 if out is too small. */
extern int wrapper_prog_env (wrapper const *w, char const *const *envp, char const *const *extra, char const **out, size_t max) ;

/* Execs prog (argv) with envp, minus the TLS configuration variables unless
   w->keep_tls_vars and minus stale SSL_* facts, plus the extra entries
   ("NAME=value", NULL-terminated, may be NULL). Never returns: dies 111. */
extern void wrapper_exec_prog (wrapper const *w, char const *const *argv, char const *const *envp, char const *const *extra) __attribute__((noreturn)) ;

/* Immediate TLS (tlsd, tlsc): spawns the engine, waits for the handshake,
   then execs prog with the TLS facts in its environment and pipes to the
   engine on 0/1 (server) or 6/7 (client). */
extern int wrapper_immediate_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role) ;

/* Sets the defaults every wrapper starts from (wrapper_options does too). */
extern void wrapper_defaults (wrapper *w, tlsconf_role role) ;

/* The UCSPI-TLS controller up to its exec of the application: forks the
   child that waits for the application's command and execs the engine with
   envp. Returns in the parent with the application's ends, not close-on-exec:
   fds[0] the control socket, fds[1] the read end, fds[2] the write end. Dies
   111 on failure. */
extern void wrapper_controller_spawn (wrapper const *w, char const *const *envp, int fds[3]) ;

/* What a controller adds to the application's environment for those fds:
   writes "SSLCTLFD=n", "SSLREADFD=n", "SSLWRITEFD=n" into vars and lists
   them in extra, then "SSLHANDOFF=1" and a NULL. */
extern void wrapper_controller_vars (int const fds[3], char vars[3][32], char const *extra[5]) ;

/* UCSPI-TLS controller (ucspitlsd, ucspitlsc): DESIGN.md §3. */
extern int wrapper_controller_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role) ;

#endif

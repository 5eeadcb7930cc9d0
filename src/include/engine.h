/* engine.h: the TLS engine library: option handling and the relay loop shared
   by tlsd-io and tlsc-io, over the backend interface of tlsb.h. */
#ifndef UST_ENGINE_H
#define UST_ENGINE_H

#include "tlsb.h"
#include "tlsconf.h"

#define ENGINE_HANDSHAKE_MS_DEFAULT 60000U   /* -K: a silent peer cannot pin an engine */
#define ENGINE_IDLE_MS_DEFAULT 3600000U      /* -t: no byte either way for an hour */
#define ENGINE_LIFETIME_MS_DEFAULT 86400000U  /* -L: a session that never idles (a NOOP loop) ends after a day */
#define ENGINE_LINGER_MS 2000U               /* draining the peer after the application left */

#define ENGINE_GRACE_NONE 0xffffffffU  /* no -g: the idle deadline alone (tlsc-io, engines run by hand) */

typedef struct engine_opts_s {
  int close_notify_on_eof ;    /* -S (the server default): local EOF sends close_notify; -s (the client default): TCP half-close */
  int strict_eof ;             /* -J: peer EOF without close_notify is an error; -j (default): normal EOF */
  unsigned int handshake_ms ;  /* -K, 0 = no deadline */
  unsigned int idle_ms ;       /* -t, 0 = no deadline */
  unsigned int lifetime_ms ;   /* -L: the whole relay after the handshake, 0 = no deadline */
  int notif ;                  /* -d: where to write the info block after the handshake, or -1 */
  unsigned int grace_ms ;      /* -g: after the peer's EOF, how long the application may still
                                  write before the engine ends (ENGINE_GRACE_NONE: no limit) */
  unsigned int verbosity ;     /* -v */
} engine_opts ;

#define ENGINE_OPTS_ZERO { .close_notify_on_eof = 0, .strict_eof = 0, \
  .handshake_ms = ENGINE_HANDSHAKE_MS_DEFAULT, .idle_ms = ENGINE_IDLE_MS_DEFAULT, .lifetime_ms = ENGINE_LIFETIME_MS_DEFAULT, .notif = -1, .grace_ms = ENGINE_GRACE_NONE, .verbosity = 1 }

/* Runs a whole TLS session: sets O_NONBLOCK on the four descriptors (any
   initial state is fine), does the handshake within o->handshake_ms, writes
   the info block to o->notif (then closes it), then relays full duplex:
   cleartext read from appr is encrypted to netw, data decrypted from netr is
   written to appw. Local EOF on appr half-closes the network (or sends
   close_notify with -S) once every byte is on the wire; the peer's EOF closes
   appw once every byte is delivered. Returns when both directions are done,
   with an exit code of exitcodes.h (0, 98 TLS error or handshake timeout,
   99 idle timeout or the -L lifetime, 111 system error); errors are logged. */
extern int engine_run (tlsb *s, engine_opts const *o, int appr, int appw, int netr, int netw) ;

/* The whole of tlsd-io (role TLSCONF_SERVER) and tlsc-io (TLSCONF_CLIENT):
   parses argv, reads the TLS configuration from envp, creates the session,
   drops privileges (TLS_GID, TLS_UID), runs it. Returns the exit code. */
extern int engine_main (int argc, char const *const *argv, char const *const *envp, tlsconf_role role) ;

#endif

/* proxy.h: the protocol proxy framework. It knows no protocol: it owns the
   process split, the event loop over four descriptors with deadlines, bounded
   line framing, the order of replies, the STARTTLS handoff and the relay after
   it. A protocol file (smtp.c, ...) supplies the callbacks below and decides
   what each line means. */
#ifndef UST_PROXY_H
#define UST_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include "tlsinfo.h"
#include "ust.h"

typedef struct proxy_s proxy ;

/* What a protocol's client_line callback did with the line. */
typedef enum proxy_verdict_e {
  PROXY_TAKEN,   /* consumed: forwarded, answered or acted on */
  PROXY_WAIT     /* not consumed: call again with the same line once no backend reply is pending */
} proxy_verdict ;

/* Why a client line was refused by the framework before the protocol saw it. */
typedef enum proxy_badline_e {
  PROXY_LINE_TOO_LONG,  /* longer than the limit: discarded up to its LF */
  PROXY_LINE_NUL        /* held a NUL byte: discarded whole */
} proxy_badline ;

/* The replies to a client's STARTTLS the protocol words (tls_answer). */
typedef enum proxy_tls_answer_e {
  PROXY_TLS_ALREADY,       /* TLS is active already */
  PROXY_TLS_ARGS,          /* the command had arguments */
  PROXY_TLS_UNAVAILABLE,   /* no controller, declined, desynchronised */
  PROXY_TLS_INJECTION,     /* bytes followed it: the session ends after this */
  PROXY_TLS_PROBE_FAILED,  /* the backend did not prove its command boundary */
  PROXY_TLS_ACCEPT         /* the success reply: the last cleartext byte */
} proxy_tls_answer ;

typedef struct proxy_protocol_s {
  char const *name ;          /* for logs: "smtp" */
  size_t client_line_max ;    /* longest client line accepted, LF included */
  size_t backend_line_max ;   /* longest backend line accepted, LF included */

  /* A complete client line (len bytes, ending in LF). May forward it, answer
     it, expect replies, start TLS... Returns PROXY_WAIT to have it offered
     again when proxy_pending() is 0 (for answers that must keep their place
     after replies still due from the backend). */
  proxy_verdict (*client_line) (proxy *p, char const *line, size_t len) ;

  /* A client line the framework refused (see proxy_badline): line holds its
     first len bytes (all of it for a NUL, the limit's worth for an overlong
     one), to read a tag from. The protocol answers it, or returns
     PROXY_WAIT to be called again once no backend reply is pending (an
     answer that must keep its place). */
  proxy_verdict (*client_bad_line) (proxy *p, proxy_badline why, char const *line, size_t len) ;

  /* In stream mode (proxy_client_stream), bytes from the client: returns how
     many of them belong to the stream, which the protocol has forwarded
     itself (proxy_to_backend), as they are or normalised. It calls
     proxy_client_lines() where the stream ends. */
  size_t (*client_stream) (proxy *p, char const *buf, size_t len) ;

  /* A complete backend line (ends in LF, or is the backend's last bytes). */
  void (*backend_line) (proxy *p, char const *line, size_t len) ;

  /* The idle deadline passed: queue a goodbye; the framework flushes it and ends. */
  void (*idle_timeout) (proxy *p) ;
  /* The backend ended while the client awaited a reply: queue the
     protocol's "service not available"; the framework flushes it and ends. */
  void (*backend_gone) (proxy *p) ;

  /* Called once before the session starts (e.g. to expect a greeting). May be NULL. */
  void (*start) (proxy *p) ;
  /* Called once when it is over, to free what the state holds. May be NULL. */
  void (*finish) (proxy *p) ;
  /* The size of the protocol's per-session state: allocated zeroed before
     start, reached with proxy_state(p), freed after finish. */
  size_t state_size ;

  /* STARTTLS: the command's name for logs ("STARTTLS", "STLS"), the reply
     texts, and, if not NULL, a probe that sends the backend a command of
     the proxy's own and calls proxy_tls_proven on its reply. */
  char const *tls_verb ;
  void (*tls_answer) (proxy *p, proxy_tls_answer what) ;
  void (*tls_probe) (proxy *p) ;

  /* TLS is established; info holds what the engine told. */
  void (*tls_started) (proxy *p, tlsinfo const *info) ;
} proxy_protocol ;

typedef struct proxy_options_s {
  unsigned int idle_ms ;      /* -t: idle deadline in every phase (0: none) */
  unsigned int grace_ms ;     /* -g: how long the backend may outlive the session before SIGTERM */
  unsigned int verbosity ;    /* -v */
  int require_tls ;           /* -T */
  int stay ;                  /* -d: stay in the data path after TLS (no direct handoff) */
} proxy_options ;

/* What distinguishes one proxy program's command line from another's. */
typedef struct proxy_program_s {
  char const *name ;          /* "smtpd-starttls" */
  unsigned int idle_ms ;      /* default -t */
  unsigned int line_max ;     /* default -l */
  unsigned int line_min ;     /* smallest -l accepted */
  void (*protocol) (proxy_protocol *proto, size_t line_max) ;  /* fills the callbacks */
} proxy_program ;

/* The whole of a proxy program: parses
   "name [ -T ] [ -t ms ] [ -g ms ] [ -l bytes ] [ -v n ] [ -- ] prog...", dying with
   exit 100 on bad usage, then runs proxy_main. Returns its exit code. */
extern int proxy_cli_main (proxy_program const *prog, int argc, char const *const *argv, char const *const *envp) ;

/* Forks: the parent execs prog (argv, with envp minus the UCSPI-TLS
   variables) with its stdin/stdout on pipes to the child; the child runs the
   proxy with the client on 0/1 and returns its exit code. Never returns in
   the parent. */
extern int proxy_main (proxy_protocol const *proto, proxy_options const *o, char const *const *argv, char const *const *envp) ;

/* The protocol's per-session state (proxy_protocol.state_size bytes). */
extern void *proxy_state (proxy const *p) ;
/* Allocates the state and calls start / calls finish and frees it (the
   framework and the fuzz harness around a session). */
extern void proxy_session_begin (proxy *p) ;
extern void proxy_session_end (proxy *p) ;

/* Queues bytes for the client / for the backend. */
extern void proxy_to_client (proxy *p, char const *s, size_t len) ;
extern void proxy_to_backend (proxy *p, char const *s, size_t len) ;
extern void proxy_say (proxy *p, char const *s) ;  /* proxy_to_client of a C string */

/* The FIFO of backend replies still due, one entry per forwarded command,
   each with a protocol-defined kind. Unbounded in effect: while it is long
   the framework stops reading the client (backpressure), it never fails. */
extern void proxy_expect (proxy *p, int kind) ;
extern int proxy_expected (proxy const *p) ;      /* kind at the head, or -1 */
extern void proxy_reply_done (proxy *p) ;         /* pops the head */
extern unsigned int proxy_pending (proxy const *p) ;

/* Client framing: the next n client bytes are data, forwarded verbatim to
   the backend (IMAP literals, SMTP BDAT); then lines resume. */
extern void proxy_client_literal (proxy *p, uint64_t n) ;
/* Client framing: the next n client bytes are data nobody will read (the
   chunk of a refused SMTP BDAT): dropped, never taken as lines. */
extern void proxy_client_discard (proxy *p, uint64_t n) ;
/* Client framing: stream mode (client_stream callback) until proxy_client_lines. */
extern void proxy_client_stream (proxy *p) ;
extern void proxy_client_lines (proxy *p) ;
/* Stops taking client lines until proxy_client_resume (e.g. until SMTP's DATA reply). */
extern void proxy_client_hold (proxy *p) ;
extern void proxy_client_resume (proxy *p) ;
/* Backend framing: the next n backend bytes are data, forwarded verbatim to the client. */
extern void proxy_backend_literal (proxy *p, uint64_t n) ;

/* Changes the longest client line accepted (e.g. for SASL exchanges); 0 restores the protocol's. */
extern void proxy_client_line_max (proxy *p, size_t max) ;

/* Bytes the client sent after the line being handled (already read, not yet handled). */
extern size_t proxy_client_unhandled (proxy const *p) ;

/* 1 if TLS can still be started: a controller gave us SSLCTLFD, it is still
   there, TLS was neither declined nor started. */
extern int proxy_tls_available (proxy *p) ;
extern int proxy_tls_active (proxy const *p) ;
extern int proxy_require_tls (proxy const *p) ;

/* A client's STARTTLS (args: it had arguments), framed by the protocol:
   the one decision for every protocol (proxy_starttls.c). Answers through
   tls_answer in the order the checks come: already active, arguments (after
   the replies due), then, once nothing is pending, TLS unavailable (no
   controller, declined, desynchronised), bytes after it (an injection:
   the session ends), then the probe or the success reply and the handoff. */
extern proxy_verdict proxy_tls_request (proxy *p, int args) ;
/* The probe's reply came: failed is NULL if the backend proved its
   boundary, else why not (logged). Answers and starts TLS, or refuses. */
extern void proxy_tls_proven (proxy *p, char const *failed) ;

/* Starts TLS once the success reply (already queued) is flushed: the client
   is not read any more; backend output waits; then the handoff of DESIGN.md
   §5 rule 5. On failure the session ends. */
extern void proxy_starttls (proxy *p) ;

/* The protocol saw the backend's capability list (EHLO reply, CAPABILITY,
   CAPA): offers is 1 if it held something only the proxy may advertise
   (STARTTLS, STLS, LOGINDISABLED). After TLS the proxy leaves the data path
   (the direct handoff, when the controller offers it) only if it saw such a
   list and none was ever tainted: otherwise it stays to keep filtering. */
extern void proxy_backend_capabilities (proxy *p, int offers) ;

/* The backend's replies do not match what was forwarded (a complete reply
   no command awaited, a tag never sent, a continuation nobody asked for):
   the proxy can no longer know the backend's state, so TLS is refused for
   the rest of the session (DESIGN §5). Logs once, counts as an injection
   attempt. Returns 1 if, under -T, the session must end now (the protocol
   says its goodbye and calls proxy_close). */
extern int proxy_desync (proxy *p, char const *what) ;
extern int proxy_desynced (proxy const *p) ;

/* Is the line a well-formed command line: ending in CRLF, with no other CR
   or LF in it? A bare CR or LF ends a command for some servers and not for
   others, so the SMTP and POP3 rules never forward a line holding one. */
extern int proxy_crlf_line (char const *line, size_t len) ;

/* Is the line a command line that every server splits into the same words?
   It is a CRLF line (proxy_crlf_line) with no other control byte (HT, VT,
   FF... are blanks to some servers and word bytes to others) and no blank
   before its first word. PROXY_PLAIN_WORDS asks more: ASCII only, words
   separated by one SP, none after the last. */
typedef enum proxy_plain_e { PROXY_PLAIN_CTL, PROXY_PLAIN_WORDS } proxy_plain ;
extern int proxy_plain_line (char const *line, size_t len, proxy_plain how) ;

/* 1 while the framing of the client's cleartext commands matters: TLS is
   not active and either it may still start (the backend's state at
   STARTTLS must be known) or -T holds (credentials must never reach the
   backend in cleartext). The protocols then forward only the commands
   every server frames alike (proxy_plain_line, an allow-list); without -T
   anything else commits the session to cleartext (proxy_decline), under
   -T it is refused. */
extern int proxy_cleartext_strict (proxy *p) ;

/* Appends the string s to sa (a stralloc), or dies 111: out of memory
   (ust_catb appends len bytes). */
extern void proxy_cats (stralloc *sa, char const *s) ;

/* The client committed to cleartext: TLS will not be used. */
extern void proxy_decline (proxy *p) ;

/* Ends the session once what is queued for the client is written. */
extern void proxy_close (proxy *p) ;

/* -v 2's trace of a command, before what is done with it: "command: " (or
   "command in TLS: ") and the line's word at skip (IMAP: after the tag),
   never its arguments, which may hold credentials. Once per line, however
   often the protocol is offered it again (PROXY_WAIT). */
extern void proxy_trace (proxy *p, char const *line, size_t len, size_t skip) ;

/* Logging: one line, "prog: info: " + the parts, when verbosity >= level. */
extern void proxy_log (proxy const *p, unsigned int level, char const *a, char const *b, char const *c) ;
/* Counts an attempt worth reporting in the session's summary line. */
extern void proxy_note_injection (proxy *p) ;

#endif

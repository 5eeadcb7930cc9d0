/* tlsconf.h: the TLS configuration of one engine run, read from the environment. */
#ifndef UST_TLSCONF_H
#define UST_TLSCONF_H

#include <stddef.h>

/* At most this many certificate/key pairs (the default pair plus SNI pairs). */
#define TLSCONF_KEYPAIRS_MAX 64

typedef enum tlsconf_role_e {
  TLSCONF_SERVER,
  TLSCONF_CLIENT
} tlsconf_role ;

/* Server: whether a client certificate is requested (-Y optional, -y mandatory).
   Client: whether the client presents CERTFILE/KEYFILE (-y) or not (default). */
typedef enum tlsconf_clientcert_e {
  TLSCONF_CLIENTCERT_NONE,
  TLSCONF_CLIENTCERT_OPTIONAL,
  TLSCONF_CLIENTCERT_REQUIRED
} tlsconf_clientcert ;

/* Server: how SNI selects a keypair (-k snilevel).
   0 = CERTFILE/KEYFILE only, SNI pairs ignored;
   1 = SNI pair when the name matches, else CERTFILE/KEYFILE (default);
   2 = a name that matches no SNI pair fails the handshake. */
#define TLSCONF_SNILEVEL_DEFAULT 1

/* TLS_PROTOCOLS: the protocol versions allowed, a set of these bits. */
#define TLSCONF_TLS12 1U
#define TLSCONF_TLS13 2U
#define TLSCONF_PROTOCOLS_DEFAULT (TLSCONF_TLS12 | TLSCONF_TLS13)

/* TLS_CIPHERS: the cipher policy. Both are forward secret (ECDHE) only;
   strict is AEAD only, compat adds the ECDHE CBC suites of TLS 1.2 for old
   clients (the default: see tlsd-io(1) for why). */
typedef enum tlsconf_ciphers_e {
  TLSCONF_CIPHERS_COMPAT,
  TLSCONF_CIPHERS_STRICT
} tlsconf_ciphers ;

typedef struct tlsconf_keypair_s {
  char const *name ;      /* NULL for the default pair; "host.example.org" or "*.example.org",
                             ending at NUL or at '=' (it may point into an environment entry) */
  char const *certfile ;  /* PEM or DER, may hold a chain (leaf first) */
  char const *keyfile ;   /* PEM or DER private key, RSA or EC */
  char const *ocspfile ;  /* OCSPFILE, OCSPFILE:name: a DER OCSP response to staple, or NULL */
} tlsconf_keypair ;

typedef struct tlsconf_s {
  tlsconf_role role ;
  tlsconf_clientcert clientcert ;
  unsigned int snilevel ;          /* server only */
  char const *servername ;         /* client only: SNI and name to verify; NULL = neither */
  char const *cafile ;             /* CAFILE, or NULL */
  char const *cadir ;              /* CADIR, or NULL */
  tlsconf_keypair keypairs[TLSCONF_KEYPAIRS_MAX] ;
  unsigned int nkeypairs ;
  int has_default ;                /* keypairs[0] is the default (unnamed) pair */
  unsigned int protocols ;         /* TLS_PROTOCOLS: TLSCONF_TLS12 | TLSCONF_TLS13 */
  tlsconf_ciphers ciphers ;        /* TLS_CIPHERS */
  char const *sessioncache ;       /* SESSIONCACHE (server, BearSSL builds): the shared session cache file, or NULL */
  char const *sessionfile ;        /* SESSIONFILE (client): the kept session, or NULL */
  unsigned int session_lifetime ;  /* SESSION_LIFETIME, seconds */
} tlsconf ;

/* SESSION_LIFETIME: how long after its full handshake a session may be
   resumed. The default is what a mail client reconnecting for the next poll
   or the next message needs; an expired entry's secret is erased when it is
   met or swept (doc/guarantees.md). */
#define TLSCONF_SESSION_LIFETIME_DEFAULT 3600
#define TLSCONF_SESSION_LIFETIME_MIN 60
#define TLSCONF_SESSION_LIFETIME_MAX 86400

/* 1 if a server session of conf may be resumed: a server with
   SESSIONCACHE that asks for no client certificate (a resumed session
   would carry no fresh certificate check). */
extern int tlsconf_server_resumes (tlsconf const *conf) ;

/* Fills conf from envp (CERTFILE, KEYFILE, OCSPFILE; the SNI pairs
   CERTFILE:name, KEYFILE:name, OCSPFILE:name; CAFILE, CADIR, TLS_PROTOCOLS,
   TLS_CIPHERS). role, clientcert, snilevel and servername must be set by the
   caller beforehand. The strings point into envp. Returns 0 on success; on a
   bad configuration returns -1 and sets *why to a static message naming the
   problem (missing KEYFILE for a CERTFILE, a top-level wildcard, too many
   pairs, a server with no certificate at all, a client with no trust anchors). */
extern int tlsconf_from_env (tlsconf *conf, char const *const *envp, char const **why) ;

/* Parses a TLS_PROTOCOLS value: names separated by ',', ':' or spaces,
   case ignored: "tlsv1.2", "tlsv1.3", or "default" / "secure" / "all" for
   both. Returns 0 and the set in *out, or -1 and *why. */
extern int tlsconf_parse_protocols (char const *s, unsigned int *out, char const **why) ;

/* Parses a TLS_CIPHERS value: "strict", "compat" or "default" (compat).
   Returns 0, or -1 and *why. */
extern int tlsconf_parse_ciphers (char const *s, tlsconf_ciphers *out, char const **why) ;

/* Sets conf->protocols and conf->ciphers from TLS_PROTOCOLS and
   TLS_CIPHERS in envp, and the session resumption fields from SESSIONCACHE,
   SESSIONFILE and SESSION_LIFETIME (unset or empty: the defaults, no
   resumption; SESSIONCACHE in a build whose backend cannot share sessions,
   or a variable of the other role than conf->role, is an error). Returns 0, or -1 and
   *why. Part of tlsconf_from_env; the controllers call it alone at start,
   so that a bad value fails there and not at the first STARTTLS. */
extern int tlsconf_policy_from_env (tlsconf *conf, char const *const *envp, char const **why) ;

/* Returns the index in conf->keypairs of the pair to use for the SNI name
   servername (may be NULL or empty: no SNI), following conf->snilevel:
   an exact name wins over a wildcard; a wildcard "*.d" matches exactly one
   label before d; comparison ignores case. Returns -1 when no pair applies. */
extern int tlsconf_select_keypair (tlsconf const *conf, char const *servername) ;

/* Checks that every configured certificate file holds a PEM CERTIFICATE
   and every key file a PEM ... PRIVATE KEY, readable now. Returns 0, or -1
   with *file the first one that does not (it may still be a key the TLS
   library cannot use: that only the engine can tell). */
extern int tlsconf_check_files (tlsconf const *conf, char const **file) ;

/* Returns 1 if name is acceptable as an SNI pattern: a host name, or
   "*." followed by a name with at least two labels. 0 otherwise. */
extern int tlsconf_valid_sni_pattern (char const *name) ;

#endif

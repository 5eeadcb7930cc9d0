/* ust.h: internal helpers shared by the programs (not installed). */
#ifndef UST_UST_H
#define UST_UST_H

#include <stddef.h>
#include <time.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

/* The largest descriptor number an option may name (Linux's nr_open ceiling). */
#define UST_FD_MAX 1048576

/* Parses a decimal unsigned int (no sign, no overflow). Returns 1, or 0 if invalid. */
extern int ust_uint (char const *s, unsigned int *u) ;

/* The value of option opt (its name, as "-t", for the message) as ust_uint
   takes it, or as a descriptor number up to UST_FD_MAX: the program dies with
   UST_EXIT_USAGE when it is not one. */
extern unsigned int ust_uint_opt (char const *s, char const *opt) ;
extern int ust_fd_opt (char const *s, char const *opt) ;

/* stralloc_catb, or the program dies with UST_EXIT_SYS ("out of memory"). */
extern void ust_catb (stralloc *sa, char const *s, size_t len) ;

/* Drops privileges as TLS_GID (setgroups to it alone, setgid) then TLS_UID
   (setuid) say, when set and not empty in envp. Returns 0; -1 with errno
   EINVAL and *why set if a value is not a number or TLS_UID comes without
   TLS_GID; -1 with errno from the failing call (*why NULL). */
extern int ust_drop_privileges (char const *const *envp, char const **why) ;

/* Returns 1 if the environment entry "NAME=value" e is one of the TLS
   configuration variables (CERTFILE, KEYFILE, CERTFILE:*, KEYFILE:*, CAFILE,
   CADIR, TLS_UID, TLS_GID), which applications must not see by default. */
extern int ust_is_tls_var (char const *e) ;

/* Copies envp into out (at most max-1 entries, then NULL), leaving out the
   TLS configuration variables unless keep, and any entry whose name is in
   drop (a NULL-terminated list of names, may be NULL). Returns the count, or
   -1 if out is too small. */
extern int ust_env_filter (char const **out, size_t max, char const *const *envp, int keep, char const *const *drop) ;

/* The UCSPI-TLS variables a controller sets (the descriptors, SSLHANDOFF
   and the info block's names), NULL-terminated: a drop list for
   ust_env_filter, since stale ones from outside would lie. */
extern char const *const ust_ucspitls_vars[] ;

/* Finds the engine program name (e.g. "tlsd-io") next to the running
   executable (/proc/self/exe), else in the configured bindir. Writes the path
   into buf (size max). Returns 0, or -1 if it does not fit. */
extern int ust_engine_path (char const *name, char *buf, size_t max) ;

/* Reads the DER element at p (len bytes available): its tag (single-byte
   tags only) and its content in *content, *clen (lengths of up to 4 bytes).
   Returns the bytes the element spans, or 0 if it is malformed or does not
   fit in len. */
extern size_t ust_der_next (unsigned char const *p, size_t len, unsigned int *tag, unsigned char const **content, size_t *clen) ;

/* Once a session is over, its application (a server, a proxy's backend)
   has had EOF on its input: it gets UST_END_GRACE_MS (the default of -g) to
   end by itself, then SIGTERM, then UST_END_KILL_MS more before SIGKILL. */
#define UST_END_GRACE_MS 30000
#define UST_END_KILL_MS 5000

/* A span on the monotonic clock: ust_ms_start marks its start in *t0;
   ust_ms_left says how many of its ms milliseconds are left (0 or less:
   it is over). For the short bounded waits outside iopause loops. */
extern void ust_ms_start (struct timespec *t0) ;
extern long ust_ms_left (struct timespec const *t0, unsigned int ms) ;

/* Sets *d to ms milliseconds from now (skalibs' STAMP), or to infinity
   for 0: the deadlines of the iopause loops. */
extern void ust_deadline_in (tain *d, unsigned int ms) ;

/* After the last words to a peer that may still be sending: FIN on out,
   then what comes on in is read and dropped until its EOF, ms
   milliseconds or max bytes, so that the close does not reset the
   connection with the goodbye in flight. Nothing if out is not a socket. */
extern void ust_linger (int in, int out, unsigned int ms, size_t max) ;
/* What the proxies give it: both server and client proxies, after their
   last cleartext words (a 421, a BYE, a refusal). */
#define UST_LINGER_MS 2000
#define UST_LINGER_MAX 1048576

/* The ALPN ids of the mail protocols, the only ones a server engine
   accepts when a client offers ALPN (no ALPN at all is fine). */
#define UST_ALPN_MAIL_N 4
extern char const *const ust_alpn_mail[UST_ALPN_MAIL_N] ;
/* 1 if the len bytes at id are one of them. */
extern int ust_alpn_is_mail (unsigned char const *id, size_t len) ;

/* A pidfd for pid (Linux 5.3), or -1. */
extern int ust_pidfd_open (int pid) ;

/* Waits up to grace_ms for pid to end, then sends SIGTERM, waits up to
   kill_ms, then sends SIGKILL. pidfd comes from ust_pidfd_open; with -1,
   pid must be our parent (watched through getppid). Returns 0 if pid
   ended by itself, or is our parent asleep in wait() with us as its only
   child (a backend that reaps its children before it exits: it ends once
   we are gone), 1 after SIGTERM, 2 if it had to be killed. */
extern int ust_end_process (int pidfd, int pid, unsigned int grace_ms, unsigned int kill_ms) ;

/* Looks up name in envp; returns its value or NULL. */
extern char const *ust_getenv (char const *const *envp, char const *name) ;

/* Checks that fd is a file fit to hold session secrets: a regular file,
   owned by the effective user or root, with no access for group or others.
   Returns 0, or -1 with *why. */
extern int ust_secret_fd_check (int fd, char const **why) ;

/* Opens (creating it, mode 0600, if absent) the session cache file for
   reading and writing, refusing a symbolic link, and checks it with
   ust_secret_fd_check. Returns the fd (close-on-exec), or -1 with *why. */
extern int ust_secret_file_open (char const *file, char const **why) ;

/* flock(fd, how) for a read or write of a few hundred bytes: another
   process holding the lock longer (a stuck or hostile one with access to
   the file) is a failure after about 5 ms, never a longer wait.
   Returns 0, or -1. */
extern int ust_secret_lock (int fd, int how) ;

#endif

/* check.h: ucspitls-check, the UCSPI-TLS conformance checker (issue 15):
   its options, its report, the /proc observations, application mode and
   controller mode (-a). */
#ifndef UST_CHECK_H
#define UST_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#define CHECK_USAGE "ucspitls-check [ -Z | -z ] [ -b shape ] [ -t ms ] [ -K ms ] [ -o file ] [ -v n ] [ -- ] prog...\n   or: ucspitls-check -a [ -c ] [ -n ] [ -t ms ] [ -K ms ] [ -o file ] [ -v n ]"

/* Controller mode: the longest wait for one line of the dialogue, and the
   most commands served in one session. */
#define CHECK_IDLE_MS 30000U
#define CHECK_COMMANDS_MAX 200U

/* The observation bound of -t: how long ucspitls-check waits for a sign
   (prog closing its network descriptors, going on after the info block,
   sending its command once the client began TLS) before it reports what it
   saw. */
#define CHECK_BOUND_MS_DEFAULT 2000U

/* Application mode keeps at most this much cleartext of each direction
   before the command (the read-past and reply rules look into it). */
#define CHECK_LOG_MAX (1024U * 1024U)

/* -b: the info block given to prog after 'Y'. */
typedef enum check_block_shape_e {
  CHECK_BLOCK_ENGINE,  /* the engine's block as it is */
  CHECK_BLOCK_BARE,    /* plus bare NAME\0 entries, as other controllers send */
  CHECK_BLOCK_MAX      /* padded to TLSINFO_BLOCK_MAX bytes exactly */
} check_block_shape ;

typedef struct check_options_s {
  int keep_tls_vars ;        /* -Z: prog sees CERTFILE, KEYFILE... (default -z, as ucspitlsd) */
  check_block_shape block ;  /* -b */
  unsigned int bound_ms ;    /* -t */
  unsigned int handshake_ms ; /* -K: for the engine, and our wait for its block */
  char const *output ;       /* -o: the report file (appended), else stderr */
  unsigned int verbosity ;   /* -v: 2 adds the timestamped trace */
  int controller ;           /* -a: check the controller we run under */
  int client ;               /* -c: with -a, the client side (network on 6/7, under ucspitlsc) */
  int leave_blocking ;       /* -n: with -a, do not set O_NONBLOCK before 'Y' */
} check_options ;

/* Parses argv; returns the index of prog (argc with -a). Dies 100. */
extern int check_options_parse (check_options *o, int argc, char const *const *argv) ;

typedef enum check_verdict_e { CHECK_PASS, CHECK_WARN, CHECK_FAIL } check_verdict ;

/* One session's report: lines are collected, then written at once by
   check_report_end, so that concurrent sessions appending to one -o file do
   not interleave. */
typedef struct check_report_s {
  stralloc text ;
  unsigned int npass, nwarn, nfail ;
  unsigned int verbosity ;
  tain start ;
} check_report ;

/* Starts a report: a header line naming the mode and our pid. */
extern void check_report_init (check_report *r, unsigned int verbosity, char const *mode) ;

/* Adds "PASS|WARN|FAIL rule: text" (printf-style text). Dies 111 on ENOMEM. */
extern void check_rule (check_report *r, check_verdict v, char const *rule, char const *fmt, ...) __attribute__((format(printf, 4, 5))) ;

/* With -v 2: adds "TRACE +s.mmm text". */
extern void check_trace (check_report *r, char const *fmt, ...) __attribute__((format(printf, 2, 3))) ;

/* Milliseconds since check_report_init. */
extern unsigned long check_ms (check_report const *r) ;

/* Adds the summary line and writes the report to output (appended; NULL:
   stderr, each line prefixed with "ucspitls-check: "). Returns the exit
   code: 0 when no rule failed, 1 otherwise; frees the text. Dies 111 if it
   cannot write. */
extern int check_report_end (check_report *r, char const *output) ;

/* Appends len bytes of s to sa as printable text (\r \n \xHH), at most max. */
extern void check_quote (stralloc *sa, char const *s, size_t len, size_t max) ;

/* /proc observations. Each returns 0, or -1 with errno (the process is
   gone, or /proc is not readable). */

/* The flags field of /proc/pid/fdinfo/fd (octal in the file). */
extern int check_proc_fdflags (pid_t pid, int fd, unsigned int *flags) ;

/* The target of /proc/pid/fd/fd ("socket:[n]", "pipe:[n]", a path) into buf. */
extern int check_proc_fdtarget (pid_t pid, int fd, char *buf, size_t max) ;

/* The descriptors of pid that are not in expected (n numbers) and not
   shared (same pipe or socket) with another process of the tree rooted at
   root (root 0: no tree, every such descriptor counts): appended to out as " fd=target" each. *count gets their number. */
extern int check_proc_extra_fds (pid_t pid, pid_t root, int const *expected, unsigned int n, stralloc *out, unsigned int *count) ;

/* The names of the TLS configuration variables (ust_is_tls_var) in
   /proc/pid/environ, appended to out separated by spaces. *count gets their
   number. */
extern int check_proc_tls_env (pid_t pid, stralloc *out, unsigned int *count) ;

/* Application mode: runs prog (argv) as a UCSPI-TLS application between
   the client on 0/1 and our engine. Returns the exit code. */
extern int check_app_main (check_options const *o, char const *const *argv, char const *const *envp) ;

/* Controller mode: plays a UCSPI-TLS application (a small SMTP server, or
   with -c its client) under the controller being checked. Returns the exit
   code. */
extern int check_ctl_main (check_options const *o, char const *const *envp) ;

/* Controller mode's watch of the controller's side, where it is our
   descendant (the application keeps the pid, as under ucspitlsd and
   s6-ucspitlsd): our children are traced (ptrace) from just before 'Y'
   until the engine's exec, so that the network socket's flags are read
   while the engine has not run yet. */
typedef struct check_execwatch_s {
  pid_t pid[256] ;
  unsigned int n ;
  pid_t exited ;         /* a tracee that ended (one that failed, if any) */
  int exit_status ;      /* its wait status */
} check_execwatch ;

/* Seizes our child processes. Returns how many, or -1 with errno (none
   could be traced). */
extern int check_execwatch_start (check_execwatch *w) ;

/* Handles what the tracees report, without blocking. Returns a pid that
   has just exec'd, stopped there: read what is to be read, then
   check_execwatch_release it (not the engine) or check_execwatch_end (the
   engine); 0 if none yet, -1 when no tracee is left. A new process that
   finds the list full is let go at its first stop. */
extern pid_t check_execwatch_step (check_execwatch *w) ;

/* Lets one tracee go from its exec stop. */
extern void check_execwatch_release (check_execwatch *w, pid_t pid) ;

/* Lets every tracee go: interrupts each, collects every pending event
   (adding and letting go the children that fork events announce) and
   detaches; waits at most ms for tracees to stop. Returns how many are
   still traced (asleep where no interrupt reaches): call again later. */
extern unsigned int check_execwatch_end (check_execwatch *w, unsigned int ms) ;

#endif

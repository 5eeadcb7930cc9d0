/* check_ctl.c: controller mode (-a). ucspitls-check is the application
   under the controller being checked: a small SMTP server (or with -c its
   client) that asks for TLS with 'Y' the way a careless application might,
   with O_NONBLOCK left on the network socket, and checks what the
   controller gives it: the variables and descriptors, the flag at the
   engine's exec, the info block, the control socket after it, the
   handshake deadline, a working session. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/env.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "check.h"
#include "exitcodes.h"
#include "tlsinfo.h"
#include "ust.h"

#define LINE_MAX_SMTP 1000U        /* RFC 5321 4.5.3.1.4, CRLF included */
#define DATA_MAX (1024U * 1024U)   /* a message body */
#define DATA_MS 300000U            /* ... and its deadline */
#define SESSION_MS 600000U         /* a whole session */
#define DRAIN_MS 200U              /* how long letting the tracees go may take */

/* A line reader. Before TLS it reads one byte at a time: the application
   must never take a byte past the STARTTLS line. */
typedef struct reader_s {
  int fd ;
  int bytewise ;
  char buf[4096] ;
  size_t start, end ;
} reader ;

typedef struct ctl_s {
  check_options const *o ;
  check_report *r ;
  struct timespec born ;
  int netr, netw ;       /* 0/1, or 6/7 with -c */
  int ctl, rfd, wfd ;    /* SSLCTLFD, SSLREADFD, SSLWRITEFD; -1 when unusable */
  int vars_ok ;
  unsigned int commands ;  /* both phases together, at most CHECK_COMMANDS_MAX */
  int write_failed ;
  check_execwatch w ;    /* tracees not let go yet (asleep where no interrupt reaches) */
  unsigned long y_ms ;
  char block[TLSINFO_BLOCK_MAX + 64] ;
  size_t blen ;
  long bcomplete ;       /* tlsinfo_block_complete: >0 complete, 0 not, -1 malformed */
  int exec_seen ;        /* the engine's exec was watched */
  int nb_at_exec ;       /* O_NONBLOCK then */
  int nb_at_block ;      /* O_NONBLOCK when the block came, or the wait ended */
  char engine[256] ;     /* what was exec'd, printable */
  unsigned int served ;  /* commands answered inside TLS */
  char last[16] ;
} ctl ;

/* Returns 1 and the line (through \n, NUL-terminated) in line, 0 at EOF,
   -1 if longer than max - 1 bytes, -2 at the deadline (ms after t0, or
   the session's), -3 on a read error. */
static int read_line (ctl const *c, reader *rd, char *line, size_t max, struct timespec const *t0, unsigned int ms)
{
  size_t n = 0 ;
  for (;;)
  {
    while (rd->start < rd->end)
    {
      char ch = rd->buf[rd->start++] ;
      if (n + 1 >= max) return -1 ;
      line[n++] = ch ;
      if (ch == '\n') { line[n] = 0 ; return 1 ; }
    }
    {
      struct pollfd p = { .fd = rd->fd, .events = POLLIN } ;
      long left = ust_ms_left(t0, ms), sleft = ust_ms_left(&c->born, SESSION_MS) ;
      ssize_t got ;
      int r ;
      if (sleft < left) left = sleft ;
      if (left <= 0) return -2 ;
      r = poll(&p, 1, (int)left) ;
      if (r < 0) { if (errno == EINTR) continue ; return -3 ; }
      if (!r) return -2 ;
      got = read(rd->fd, rd->buf, rd->bytewise ? 1 : sizeof rd->buf) ;
      if (got < 0) { if (errno == EINTR || errno == EAGAIN) continue ; return errno == ECONNRESET ? 0 : -3 ; }
      if (!got) return 0 ;
      rd->start = 0 ; rd->end = (size_t)got ;
    }
  }
}

/* One line, within CHECK_IDLE_MS from now (and the session's deadline). */
static int next_line (ctl const *c, reader *rd, char *line, size_t max)
{
  struct timespec t0 ;
  ust_ms_start(&t0) ;
  return read_line(c, rd, line, max, &t0, CHECK_IDLE_MS) ;
}

/* Replies are small and at most CHECK_COMMANDS_MAX: they fit in a socket's
   or a pipe's buffer, so a peer that does not read cannot hold a write.
   SIGPIPE is ignored; a failed write ends the dialogue. */
static int say (ctl *c, int fd, char const *s)
{
  size_t len = strlen(s) ;
  if (allwrite(fd, s, len) < len) { c->write_failed = 1 ; return 0 ; }
  return 1 ;
}

/* A peer's bytes made fit for the report: nothing unprintable, so that a
   value can never start a line of its own. */
static void printable (char *s)
{
  for (; *s ; s++) if ((unsigned char)*s < 32 || (unsigned char)*s > 126) *s = '?' ;
}

/* The verb of an SMTP command line, uppercased, in v. */
static void verb (char const *line, char *v, size_t max)
{
  size_t i = 0 ;
  while (line[i] && line[i] != ' ' && line[i] != '\r' && line[i] != '\n' && i + 1 < max) { v[i] = line[i] >= 'a' && line[i] <= 'z' ? line[i] - 32 : line[i] ; i++ ; }
  v[i] = 0 ;
  printable(v) ;
}

static int fd_open (int fd) { return fcntl(fd, F_GETFD) >= 0 ; }

static int fd_accmode (int fd) { int f = fcntl(fd, F_GETFL) ; return f < 0 ? -1 : (f & O_ACCMODE) ; }

/* vars: the three variables, the descriptors they name, what they are. */
static void check_vars (ctl *c, char const *const *envp)
{
  static char const *const names[3] = { "SSLCTLFD", "SSLREADFD", "SSLWRITEFD" } ;
  int fd[3] ;
  char problem[512] = "" ;
  size_t pl = 0 ;
  for (unsigned int i = 0 ; i < 3 ; i++)
  {
    char const *v = env_get2(envp, names[i]) ;
    unsigned int u ;
    fd[i] = -1 ;
    if (!v) { pl += (size_t)snprintf(problem + pl, sizeof problem - pl, "; %s is unset", names[i]) ; continue ; }
    if (!*v || v[uint_scan(v, &u)] || u > 65535) { pl += (size_t)snprintf(problem + pl, sizeof problem - pl, "; %s=%.32s is not a descriptor number", names[i], v) ; continue ; }
    fd[i] = (int)u ;
    if (!fd_open(fd[i])) pl += (size_t)snprintf(problem + pl, sizeof problem - pl, "; %s=%d is not open", names[i], fd[i]) ;
    else if (fd[i] <= 2 || fd[i] == c->netr || fd[i] == c->netw) pl += (size_t)snprintf(problem + pl, sizeof problem - pl, "; %s=%d is a standard or network descriptor", names[i], fd[i]) ;
    if (pl >= sizeof problem) pl = sizeof problem - 1 ;
  }
  if (!pl)
  {
    int type ;
    socklen_t tl = sizeof type ;
    struct sockaddr_storage sa ;
    socklen_t sl = sizeof sa ;
    if (fd[0] == fd[1] || fd[0] == fd[2] || fd[1] == fd[2]) pl += (size_t)snprintf(problem, sizeof problem, "; the three descriptors are not distinct (%d %d %d)", fd[0], fd[1], fd[2]) ;
    else if (getsockopt(fd[0], SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM || getsockname(fd[0], (struct sockaddr *)&sa, &sl) < 0 || sa.ss_family != AF_UNIX)
      pl += (size_t)snprintf(problem, sizeof problem, "; SSLCTLFD=%d is not an AF_UNIX stream socket", fd[0]) ;
    else if (fd_accmode(fd[1]) == O_WRONLY) pl += (size_t)snprintf(problem, sizeof problem, "; SSLREADFD=%d is open for writing only", fd[1]) ;
    else if (fd_accmode(fd[2]) == O_RDONLY) pl += (size_t)snprintf(problem, sizeof problem, "; SSLWRITEFD=%d is open for reading only", fd[2]) ;
  }
  if (pl)
  {
    check_rule(c->r, CHECK_FAIL, "vars", "%s: no TLS can be asked for", problem + 2) ;
    return ;
  }
  c->ctl = fd[0] ; c->rfd = fd[1] ; c->wfd = fd[2] ; c->vars_ok = 1 ;
  check_rule(c->r, CHECK_PASS, "vars", "SSLCTLFD=%d (an AF_UNIX stream socket), SSLREADFD=%d, SSLWRITEFD=%d: open, distinct, the right directions%s",
    fd[0], fd[1], fd[2], env_get2(envp, "SSLHANDOFF") ? "; SSLHANDOFF is set (the direct handoff is offered)" : "") ;
}

/* What /proc/pid/fd shows for the file behind fd: "pipe:[n]", "socket:[n]".
   Both ends of a pipe show the same; a socket pair's two ends do not. */
static int ino_target (int fd, char *buf, size_t max)
{
  struct stat st ;
  if (fd < 0 || fstat(fd, &st) < 0) return 0 ;
  snprintf(buf, max, "%s:[%lu]", S_ISFIFO(st.st_mode) ? "pipe" : "socket", (unsigned long)st.st_ino) ;
  return 1 ;
}

/* fds and env: what the controller let into the application. */
static void check_leaks (ctl *c)
{
  int expected[8] = { 0, 1, 2, c->ctl, c->rfd, c->wfd, 6, 7 } ;
  stralloc s = STRALLOC_ZERO ;
  unsigned int count ;
  if (check_proc_extra_fds(getpid(), 0, expected, c->o->client ? 8 : 6, &s, &count) < 0)
    check_rule(c->r, CHECK_WARN, "fds", "not observed: /proc/self/fd: %s", strerror(errno)) ;
  else if (count)
  {
    char rp[64], wp[64] ;
    int engine_end = 0 ;
    if (!stralloc_0(&s)) strerr_diefsys(UST_EXIT_SYS, "stralloc_0") ;
    /* a second end of our own pipes: the engine's ends, which keep EOF from ever coming */
    if (ino_target(c->rfd, rp, sizeof rp) && strstr(s.s, rp)) engine_end = 1 ;
    if (ino_target(c->wfd, wp, sizeof wp) && strstr(s.s, wp)) engine_end = 1 ;
    check_rule(c->r, engine_end ? CHECK_FAIL : CHECK_WARN, "fds", "the application was given %u descriptor(s) beyond %s and the three UCSPI-TLS ones:%s%s",
      count, c->o->client ? "0, 1, 2, 6, 7" : "0, 1, 2", s.s, engine_end ? " (among them the engine's end of SSLREADFD's or SSLWRITEFD's pipe: EOF can never come)" : "") ;
  }
  else check_rule(c->r, CHECK_PASS, "fds", "the application holds only %s and the three UCSPI-TLS descriptors", c->o->client ? "0, 1, 2, 6, 7" : "0, 1, 2") ;
  s.len = 0 ;
  if (check_proc_tls_env(getpid(), &s, &count) < 0) check_rule(c->r, CHECK_WARN, "env", "not observed: /proc/self/environ: %s", strerror(errno)) ;
  else if (count)
  {
    if (!stralloc_0(&s)) strerr_diefsys(UST_EXIT_SYS, "stralloc_0") ;
    check_rule(c->r, CHECK_WARN, "env", "TLS configuration variables reached the application: %s (the key's path, at least, is the engine's business)", s.s) ;
  }
  else check_rule(c->r, CHECK_PASS, "env", "no TLS configuration variable in the application's environment") ;
  stralloc_free(&s) ;
}

static unsigned int flags_of (int fd)
{
  int f = fcntl(fd, F_GETFL) ;
  return f < 0 ? 0 : (unsigned int)f ;
}

static int net_nonblocking (ctl const *c)
{
  return ((flags_of(c->netr) | flags_of(c->netw)) & O_NONBLOCK) != 0 ;
}

/* 1 if pid is the engine: it holds our network socket and the other end of
   SSLREADFD's or SSLWRITEFD's pipe. A hook the controller runs first (a
   logger, a policy check) may inherit the socket, not the engine's pipes. */
static int is_engine (ctl const *c, pid_t pid)
{
  char sock[64], rp[64], wp[64], path[64], target[64] ;
  int has_sock = 0, has_pipe = 0 ;
  if (!ino_target(c->netr, sock, sizeof sock) || !ino_target(c->rfd, rp, sizeof rp) || !ino_target(c->wfd, wp, sizeof wp)) return 1 ;
  for (int fd = 0 ; fd < 1024 && !(has_sock && has_pipe) ; fd++)
  {
    ssize_t n ;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd) ;
    n = readlink(path, target, sizeof target - 1) ;
    if (n < 0) continue ;
    target[n] = 0 ;
    if (!strcmp(target, sock)) has_sock = 1 ;
    else if (!strcmp(target, rp) || !strcmp(target, wp)) has_pipe = 1 ;
  }
  return has_sock && has_pipe ;
}

/* The handoff: O_NONBLOCK on, 'Y', the engine's exec watched, the block read. */
static void ask_tls (ctl *c)
{
  int watching = check_execwatch_start(&c->w) > 0 ;
  int sfd = -1 ;
  unsigned long end ;
  c->nb_at_exec = -1 ;
  c->engine[0] = 0 ;
  if (watching)
  {
    /* a tracee's stop wakes us through SIGCHLD, not a timer */
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGCHLD) ;
    if (sigprocmask(SIG_BLOCK, &set, 0) == 0) sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC) ;
    check_trace(c->r, "watching %u child process(es) of ours for the engine's exec", c->w.n) ;
  }
  else check_trace(c->r, "no child process of ours to watch (%s): the flag will be sampled at the block", strerror(errno)) ;
  if (!c->o->leave_blocking)
  {
    if (fcntl(c->netr, F_SETFL, flags_of(c->netr) | O_NONBLOCK) < 0 || fcntl(c->netw, F_SETFL, flags_of(c->netw) | O_NONBLOCK) < 0)
      strerr_diefsys(UST_EXIT_SYS, "set O_NONBLOCK") ;
    check_trace(c->r, "O_NONBLOCK set on the network descriptors, on purpose") ;
  }
  c->y_ms = check_ms(c->r) ;
  if (send(c->ctl, "Y", 1, MSG_NOSIGNAL) < 1)
  {
    check_trace(c->r, "'Y' could not be sent: %s", strerror(errno)) ;
    watching = 0 ;
  }
  else check_trace(c->r, "'Y' sent") ;
  end = c->y_ms + c->o->handshake_ms + c->o->bound_ms ;
  c->bcomplete = 0 ;
  while (c->ctl >= 0)
  {
    struct pollfd p[2] = { { .fd = c->ctl, .events = POLLIN }, { .fd = watching ? sfd : -1, .events = POLLIN } } ;
    unsigned long now ;
    int r ;
    while (watching)
    {
      pid_t pid = check_execwatch_step(&c->w) ;
      if (!pid) break ;
      if (pid < 0) { watching = 0 ; check_trace(c->r, "no traced process left, and no engine exec seen") ; break ; }
      {
        char path[64] ;
        ssize_t n ;
        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid) ;
        n = readlink(path, c->engine, sizeof c->engine - 1) ;
        c->engine[n > 0 ? (size_t)n : 0] = 0 ;
        printable(c->engine) ;
      }
      if (!is_engine(c, pid))
      {
        check_trace(c->r, "pid %d exec'd %s without the network socket and the engine's pipes: not the engine, still watching", (int)pid, c->engine) ;
        check_execwatch_release(&c->w, pid) ;
        continue ;
      }
      c->nb_at_exec = net_nonblocking(c) ;
      c->exec_seen = 1 ;
      check_trace(c->r, "pid %d exec'd %s with the network socket and the pipes, O_NONBLOCK %s", (int)pid, c->engine, c->nb_at_exec ? "set" : "clear") ;
      check_execwatch_release(&c->w, pid) ;  /* the engine runs on from here */
      watching = 0 ;
    }
    if (!watching && c->w.n && check_execwatch_end(&c->w, DRAIN_MS)) check_trace(c->r, "%u traced process(es) not stopped yet: let go later", c->w.n) ;
    now = check_ms(c->r) ;
    if (now >= end) break ;
    /* without a signalfd, a tracee's stop is looked for every 5 ms */
    r = poll(p, 2, watching && sfd < 0 && end - now > 5 ? 5 : (int)(end - now)) ;
    if (r < 0 && errno != EINTR) strerr_diefsys(UST_EXIT_SYS, "poll") ;
    if (r <= 0) continue ;
    if (p[1].revents)
    {
      struct signalfd_siginfo si ;
      while (read(sfd, &si, sizeof si) > 0) ;
    }
    if (!p[0].revents) continue ;
    {
      ssize_t got = read(c->ctl, c->block + c->blen, sizeof c->block - c->blen) ;
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
      if (got <= 0) { check_trace(c->r, "EOF on SSLCTLFD after %zu bytes", c->blen) ; close(c->ctl) ; c->ctl = -1 ; break ; }
      c->blen += (size_t)got ;
      c->bcomplete = tlsinfo_block_complete(c->block, c->blen) ;
      if (c->bcomplete || c->blen > TLSINFO_BLOCK_MAX) break ;
    }
  }
  c->nb_at_block = net_nonblocking(c) ;
  if (watching && !c->blen)
  {
    /* no block: the watch may still tell how the controller's side ended */
    struct timespec t0 ;
    ust_ms_start(&t0) ;
    while (ust_ms_left(&t0, DRAIN_MS) > 0)
    {
      struct timespec nap = { 0, 5000000 } ;
      pid_t pid = check_execwatch_step(&c->w) ;
      if (pid < 0) break ;
      if (pid > 0) { check_execwatch_release(&c->w, pid) ; continue ; }
      nanosleep(&nap, 0) ;
    }
  }
  if (c->w.n) check_execwatch_end(&c->w, DRAIN_MS) ;
  if (sfd >= 0)
  {
    sigset_t set ;
    close(sfd) ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGCHLD) ;
    sigprocmask(SIG_UNBLOCK, &set, 0) ;
  }
}

/* handshake: when something came on SSLCTLFD after 'Y', and what ended it. */
static void check_handshake (ctl *c, unsigned long block_ms)
{
  unsigned long d = block_ms - c->y_ms ;
  if (c->bcomplete)
    check_rule(c->r, CHECK_PASS, "handshake", "the info block came %lums after 'Y'%s", d, c->bcomplete < 0 ? " (malformed: see infoblock)" : "") ;
  else if (c->blen)
    check_rule(c->r, CHECK_FAIL, "handshake", "%zu bytes of a block, not terminated, %lums after 'Y'", c->blen, d) ;
  else if (c->ctl >= 0)
    check_rule(c->r, CHECK_FAIL, "handshake", "nothing on SSLCTLFD %lums after 'Y': the controller has no handshake deadline, or a longer one than -K %u", d, c->o->handshake_ms) ;
  else if (c->exec_seen)
    check_rule(c->r, CHECK_PASS, "handshake", "no TLS session: the engine (%s) ran, and SSLCTLFD was closed with no block %lums after 'Y' (the handshake failed or timed out, and the controller ended it)", c->engine, d) ;
  else if (c->w.exited && !(WIFEXITED(c->w.exit_status) && !WEXITSTATUS(c->w.exit_status)))
    check_rule(c->r, CHECK_FAIL, "handshake", "the controller's process %d %s %d after 'Y' with no engine exec'd, and SSLCTLFD was closed with no block: it refused 'Y'", (int)c->w.exited,
      WIFEXITED(c->w.exit_status) ? "exited" : "was killed by signal", WIFEXITED(c->w.exit_status) ? WEXITSTATUS(c->w.exit_status) : WTERMSIG(c->w.exit_status)) ;
  else
    check_rule(c->r, CHECK_WARN, "handshake", "not observed: SSLCTLFD was closed with no block %lums after 'Y', and no engine run was seen (a failed handshake, or a refusal)", d) ;
}

/* infoblock: what the controller (its engine) wrote after 'Y'. */
static void check_block (ctl *c, tlsinfo *info, unsigned long block_ms)
{
  unsigned int bare = 0, entries = 0 ;
  int proto = 0, cipher = 0 ;
  if (c->bcomplete <= 0)
  {
    if (c->bcomplete < 0) check_rule(c->r, CHECK_FAIL, "infoblock", "malformed: an entry with an empty name (%zu bytes read)", c->blen) ;
    else if (c->blen > TLSINFO_BLOCK_MAX) check_rule(c->r, CHECK_FAIL, "infoblock", "no \\0\\0 terminator in the first %u bytes: over the size limit", TLSINFO_BLOCK_MAX) ;
    else if (c->blen) check_rule(c->r, CHECK_FAIL, "infoblock", "%zu bytes and no \\0\\0 terminator %s", c->blen, c->ctl < 0 ? "before EOF" : "in time") ;
    else check_rule(c->r, CHECK_WARN, "infoblock", "not observed: no block (no TLS session)") ;
    return ;
  }
  if (c->bcomplete > TLSINFO_BLOCK_MAX)
  {
    check_rule(c->r, CHECK_FAIL, "infoblock", "%ld bytes: over the %u-byte limit of UCSPI-TLS readers (ours refuse it)", c->bcomplete, TLSINFO_BLOCK_MAX) ;
    return ;
  }
  for (size_t i = 0 ; i + 1 < (size_t)c->bcomplete ; i += strlen(c->block + i) + 1)
  {
    char const *e = c->block + i ;
    entries++ ;
    if (!strchr(e, '=')) { bare++ ; continue ; }
    if (!strncmp(e, "SSL_PROTOCOL=", 13) && e[13]) proto = 1 ;
    if (!strncmp(e, "SSL_CIPHER=", 11) && e[11]) cipher = 1 ;
  }
  tlsinfo_block_parse(c->block, (size_t)c->bcomplete, info) ;
  printable(info->protocol) ; printable(info->cipher) ; printable(info->sni) ;
  if (!proto || !cipher)
    check_rule(c->r, CHECK_FAIL, "infoblock", "%ld bytes, %u entries, +%lums after 'Y': SSL_PROTOCOL%s and SSL_CIPHER%s", c->bcomplete, entries, block_ms - c->y_ms, proto ? " present" : " missing", cipher ? " present" : " missing") ;
  else check_rule(c->r, bare ? CHECK_WARN : CHECK_PASS, "infoblock", "%ld bytes, %u entries ending in \\0\\0, +%lums after 'Y': %s %s%s%s%s", c->bcomplete, entries, block_ms - c->y_ms,
    info->protocol, info->cipher, info->sni[0] ? ", SNI " : "", info->sni, bare ? "; with bare NAME entries (ours and s6's readers take them as unset; stricter readers refuse the block)" : "") ;
}

/* ctl-close: after the block, EOF on SSLCTLFD within the bound, nothing more. */
static void check_close (ctl *c, unsigned long block_ms)
{
  size_t extra = c->blen - (size_t)c->bcomplete ;
  unsigned long end = block_ms + c->o->bound_ms ;
  while (c->ctl >= 0)
  {
    unsigned long now = check_ms(c->r) ;
    struct pollfd p = { .fd = c->ctl, .events = POLLIN } ;
    char buf[512] ;
    ssize_t got ;
    if (now >= end) break ;
    if (poll(&p, 1, (int)(end - now)) <= 0) continue ;
    got = read(c->ctl, buf, sizeof buf) ;
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    if (got <= 0) { close(c->ctl) ; c->ctl = -1 ; break ; }
    extra += (size_t)got ;
  }
  if (extra) check_rule(c->r, CHECK_FAIL, "ctl-close", "%zu more bytes came on SSLCTLFD after the block's terminator", extra) ;
  else if (c->ctl >= 0) check_rule(c->r, CHECK_FAIL, "ctl-close", "SSLCTLFD was still open %ums after the block (as sslserver keeps it): an application that reads the block until EOF waits for ever", c->o->bound_ms) ;
  else check_rule(c->r, CHECK_PASS, "ctl-close", "EOF on SSLCTLFD %lums after the block", check_ms(c->r) - block_ms) ;
}

/* The server role inside TLS: a small SMTP server that accepts and discards. */
static void serve_tls (ctl *c)
{
  reader rd = { .fd = c->rfd, .bytewise = 0 } ;
  char line[LINE_MAX_SMTP + 1] ;
  while (c->commands < CHECK_COMMANDS_MAX && !c->write_failed)
  {
    char v[16] ;
    int r = next_line(c, &rd, line, sizeof line) ;
    if (r <= 0)
    {
      if (r == -1) say(c, c->wfd, "500 5.5.0 Line too long\r\n") ;
      check_trace(c->r, "inside TLS: %s", r == 0 ? "EOF" : r == -1 ? "line too long" : r == -2 ? "deadline" : "read error") ;
      return ;
    }
    c->commands++ ;
    verb(line, v, sizeof v) ;
    memcpy(c->last, v, sizeof c->last) ;
    c->served++ ;
    if (!strcmp(v, "EHLO")) say(c, c->wfd, "250-ucspitls-check\r\n250 8BITMIME\r\n") ;
    else if (!strcmp(v, "QUIT")) { say(c, c->wfd, "221 2.0.0 Bye\r\n") ; return ; }
    else if (!strcmp(v, "STARTTLS")) say(c, c->wfd, "503 5.5.1 TLS already active\r\n") ;
    else if (!strcmp(v, "DATA"))
    {
      struct timespec t0 ;
      size_t total = 0 ;
      if (!say(c, c->wfd, "354 End data with <CR><LF>.<CR><LF>\r\n")) return ;
      ust_ms_start(&t0) ;
      for (;;)
      {
        r = read_line(c, &rd, line, sizeof line, &t0, DATA_MS) ;
        if (r <= 0 || (total += strlen(line)) > DATA_MAX) { say(c, c->wfd, "552 5.3.4 Message too big, too slow or a line too long\r\n") ; return ; }
        if (!strcmp(line, ".\r\n") || !strcmp(line, ".\n")) break ;
      }
      say(c, c->wfd, "250 2.0.0 Accepted and discarded\r\n") ;
    }
    else if (!strcmp(v, "HELO") || !strcmp(v, "MAIL") || !strcmp(v, "RCPT") || !strcmp(v, "RSET") || !strcmp(v, "NOOP")) say(c, c->wfd, "250 2.0.0 OK\r\n") ;
    else say(c, c->wfd, "502 5.5.2 Command not implemented\r\n") ;
  }
}

/* The client role: one SMTP reply (at most 100 lines) into its code; 0 if none. */
static int read_reply (ctl const *c, reader *rd, char *text, size_t tmax)
{
  char line[LINE_MAX_SMTP + 1] ;
  size_t tl = 0 ;
  struct timespec t0 ;
  ust_ms_start(&t0) ;
  text[0] = 0 ;
  for (unsigned int k = 0 ; k < 100 ; k++)
  {
    size_t len ;
    if (read_line(c, rd, line, sizeof line, &t0, CHECK_IDLE_MS) <= 0) return 0 ;
    len = strlen(line) ;
    if (len < 4 || line[0] < '2' || line[0] > '5') return 0 ;
    if (tl + len < tmax) { memcpy(text + tl, line, len + 1) ; tl += len ; }
    if (line[3] == ' ' || line[3] == '\r' || line[3] == '\n') return atoi(line) ;
  }
  return 0 ;
}

/* Before TLS. Returns 1 when TLS is to be asked for, 0 when the session ends. */
static int dialogue (ctl *c, char *why, size_t wmax)
{
  reader rd = { .fd = c->netr, .bytewise = 1 } ;
  char text[4096] ;
  if (c->o->client)
  {
    if (read_reply(c, &rd, text, sizeof text) != 220) { snprintf(why, wmax, "no 220 greeting from the server") ; return 0 ; }
    if (!say(c, c->netw, "EHLO ucspitls-check\r\n") || read_reply(c, &rd, text, sizeof text) != 250) { snprintf(why, wmax, "EHLO was refused") ; return 0 ; }
    if (!strcasestr(text, "STARTTLS")) { say(c, c->netw, "QUIT\r\n") ; snprintf(why, wmax, "the server does not offer STARTTLS") ; return 0 ; }
    if (!c->vars_ok) { say(c, c->netw, "QUIT\r\n") ; snprintf(why, wmax, "no usable UCSPI-TLS variables") ; return 0 ; }
    if (!say(c, c->netw, "STARTTLS\r\n") || read_reply(c, &rd, text, sizeof text) != 220) { snprintf(why, wmax, "STARTTLS was refused") ; return 0 ; }
    return 1 ;
  }
  say(c, c->netw, "220 ucspitls-check ESMTP: checking the UCSPI-TLS controller\r\n") ;
  while (c->commands < CHECK_COMMANDS_MAX && !c->write_failed)
  {
    char line[LINE_MAX_SMTP + 1], v[16] ;
    int r = next_line(c, &rd, line, sizeof line) ;
    if (r <= 0)
    {
      if (r == -1) say(c, c->netw, "500 5.5.0 Line too long\r\n") ;
      snprintf(why, wmax, "%s before STARTTLS", r == 0 ? "the client left" : r == -1 ? "a line too long" : r == -2 ? "a deadline passed" : "a read error") ;
      return 0 ;
    }
    c->commands++ ;
    verb(line, v, sizeof v) ;
    if (!strcmp(v, "EHLO")) say(c, c->netw, c->vars_ok ? "250-ucspitls-check\r\n250 STARTTLS\r\n" : "250 ucspitls-check\r\n") ;
    else if (!strcmp(v, "HELO") || !strcmp(v, "NOOP") || !strcmp(v, "RSET")) say(c, c->netw, "250 2.0.0 OK\r\n") ;
    else if (!strcmp(v, "QUIT")) { say(c, c->netw, "221 2.0.0 Bye\r\n") ; snprintf(why, wmax, "the client quit before STARTTLS") ; return 0 ; }
    else if (!strcmp(v, "STARTTLS"))
    {
      if (!c->vars_ok) { say(c, c->netw, "454 4.7.0 TLS not available\r\n") ; continue ; }
      if (!say(c, c->netw, "220 2.0.0 Ready to start TLS\r\n")) break ;
      return 1 ;
    }
    else say(c, c->netw, "530 5.7.0 Must issue a STARTTLS command first\r\n") ;
  }
  snprintf(why, wmax, "%s before STARTTLS", c->write_failed ? "the client stopped reading" : "too many commands") ;
  return 0 ;
}

static void not_observed (ctl *c, char const *why)
{
  static char const *const rules[] = { "nonblock", "handshake", "infoblock", "ctl-close", "session", 0 } ;
  for (char const *const *r = rules ; *r ; r++) check_rule(c->r, CHECK_WARN, *r, "not observed: %s", why) ;
}

static void check_nonblock (ctl *c)
{
  if (c->o->leave_blocking) check_rule(c->r, CHECK_WARN, "nonblock", "not observed: -n, O_NONBLOCK was not set before 'Y'") ;
  else if (c->nb_at_exec == 0)
    check_rule(c->r, CHECK_PASS, "nonblock", "O_NONBLOCK was set on the network socket before 'Y'; the controller had cleared it when it exec'd %s", c->engine) ;
  else if (c->nb_at_exec > 0)
    check_rule(c->r, CHECK_FAIL, "nonblock", "O_NONBLOCK set before 'Y' was still set when the controller exec'd %s: it does not clear it (the flag belongs to the open file, so the engine inherits it; %s)", c->engine,
      c->served ? "this engine worked with it all the same, a libtls one fails in most sessions" : "and the session did not work") ;
  else if (c->bcomplete <= 0)
    check_rule(c->r, CHECK_WARN, "nonblock", "not observed: no engine exec was seen and no block came") ;
  else
    check_rule(c->r, c->nb_at_block ? CHECK_WARN : CHECK_PASS, "nonblock", "no engine exec seen among our descendants (a controller that is our parent, or does TLS itself): O_NONBLOCK was %s when the block came%s", c->nb_at_block ? "set" : "clear",
      c->nb_at_block ? " (the controller did not clear it, or its engine set it for itself: not distinguishable from here)" : "") ;
}

int check_ctl_main (check_options const *o, char const *const *envp)
{
  check_report r ;
  ctl c = { .o = o, .r = &r, .netr = o->client ? 6 : 0, .netw = o->client ? 7 : 1, .ctl = -1, .rfd = -1, .wfd = -1, .nb_at_exec = -1 } ;
  char why[256] ;
  tlsinfo info ;
  unsigned long block_ms ;
  if (!fd_open(c.netr) || !fd_open(c.netw)) strerr_dief(UST_EXIT_USAGE, o->client ? "-c: descriptors 6 and 7 must be the connection to the server (run under tcpclient and ucspitlsc)" : "descriptors 0 and 1 must be the client's connection") ;
  signal(SIGPIPE, SIG_IGN) ;  /* a peer that leaves must not cost the report */
  ust_ms_start(&c.born) ;
  check_report_init(&r, o->verbosity, o->client ? "controller (client side)" : "controller") ;
  check_vars(&c, envp) ;
  check_leaks(&c) ;
  if (!dialogue(&c, why, sizeof why))
  {
    not_observed(&c, why) ;
    return check_report_end(&r, o->output) ;
  }
  ask_tls(&c) ;
  block_ms = check_ms(&r) ;
  check_handshake(&c, block_ms) ;
  memset(&info, 0, sizeof info) ;
  check_block(&c, &info, block_ms) ;
  if (c.bcomplete > 0 && c.bcomplete <= TLSINFO_BLOCK_MAX)
  {
    check_close(&c, block_ms) ;
    if (c.w.n) check_execwatch_end(&c.w, 0) ;
    if (o->client)
    {
      reader rd = { .fd = c.rfd, .bytewise = 0 } ;
      char text[4096] ;
      int code = say(&c, c.wfd, "EHLO ucspitls-check\r\n") ? read_reply(&c, &rd, text, sizeof text) : 0 ;
      if (code == 250) { c.served = 1 ; if (say(&c, c.wfd, "QUIT\r\n")) read_reply(&c, &rd, text, sizeof text) ; }
      check_rule(&r, code == 250 ? CHECK_PASS : CHECK_FAIL, "session", code == 250 ? "the server answered EHLO inside TLS (%s %s)" : "no 250 reply to EHLO inside TLS (%s %s)", info.protocol, info.cipher) ;
    }
    else
    {
      serve_tls(&c) ;
      if (c.served) check_rule(&r, CHECK_PASS, "session", "%u command(s) answered inside TLS, the last %s", c.served, c.last) ;
      else check_rule(&r, CHECK_WARN, "session", "not observed: the client sent no command inside TLS") ;
    }
  }
  else
  {
    check_rule(&r, CHECK_WARN, "ctl-close", "not observed: no usable block") ;
    check_rule(&r, CHECK_WARN, "session", "not observed: no TLS session") ;
  }
  check_nonblock(&c) ;
  if (c.w.n) check_execwatch_end(&c.w, 0) ;
  if (c.wfd >= 0) close(c.wfd) ;
  if (c.rfd >= 0) close(c.rfd) ;
  if (c.ctl >= 0) close(c.ctl) ;
  return check_report_end(&r, o->output) ;
}

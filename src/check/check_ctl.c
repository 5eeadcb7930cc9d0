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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/env.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "check.h"
#include "exitcodes.h"
#include "tlsinfo.h"

#define LINE_MAX_SMTP 1000U        /* RFC 5321 4.5.3.1.4, CRLF included */
#define DATA_MAX (1024U * 1024U)
#define POLL_MS 50

/* A line reader with a deadline per line. Before TLS it reads one byte at a
   time: the application must never take a byte past the STARTTLS line. */
typedef struct reader_s {
  int fd ;
  int bytewise ;
  char buf[4096] ;
  size_t start, end ;
} reader ;

typedef struct ctl_s {
  check_options const *o ;
  check_report *r ;
  int netr, netw ;       /* 0/1, or 6/7 with -c */
  int ctl, rfd, wfd ;    /* SSLCTLFD, SSLREADFD, SSLWRITEFD; -1 when unusable */
  int vars_ok ;
  unsigned long y_ms ;
  char block[TLSINFO_BLOCK_MAX + 64] ;
  size_t blen ;
  long bcomplete ;       /* tlsinfo_block_complete: >0 complete, 0 not, -1 malformed */
  unsigned int served ;  /* commands answered inside TLS */
  char last[16] ;
} ctl ;

/* Returns 1 and the line (through \n, NUL-terminated) in line, 0 at EOF,
   -1 if longer than max, -2 at the deadline, -3 on a read error. */
static int read_line (reader *rd, char *line, size_t max)
{
  size_t n = 0 ;
  for (;;)
  {
    while (rd->start < rd->end)
    {
      char c = rd->buf[rd->start++] ;
      if (n + 1 >= max) return -1 ;
      line[n++] = c ;
      if (c == '\n') { line[n] = 0 ; return 1 ; }
    }
    {
      struct pollfd p = { .fd = rd->fd, .events = POLLIN } ;
      int r = poll(&p, 1, (int)CHECK_IDLE_MS) ;
      ssize_t got ;
      if (r < 0) { if (errno == EINTR) continue ; return -3 ; }
      if (!r) return -2 ;
      got = read(rd->fd, rd->buf, rd->bytewise ? 1 : sizeof rd->buf) ;
      if (got < 0) { if (errno == EINTR || errno == EAGAIN) continue ; return errno == ECONNRESET ? 0 : -3 ; }
      if (!got) return 0 ;
      rd->start = 0 ; rd->end = (size_t)got ;
    }
  }
}

static void say (int fd, char const *s)
{
  allwrite(fd, s, strlen(s)) ;
}

/* The verb of an SMTP command line, uppercased, in v. */
static void verb (char const *line, char *v, size_t max)
{
  size_t i = 0 ;
  while (line[i] && line[i] != ' ' && line[i] != '\r' && line[i] != '\n' && i + 1 < max) { v[i] = line[i] >= 'a' && line[i] <= 'z' ? line[i] - 32 : line[i] ; i++ ; }
  v[i] = 0 ;
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

static int pipe_ino (int fd, char *buf, size_t max)
{
  struct stat st ;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) return 0 ;
  snprintf(buf, max, "pipe:[%lu]", (unsigned long)st.st_ino) ;
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
    if (pipe_ino(c->rfd, rp, sizeof rp) && strstr(s.s, rp)) engine_end = 1 ;
    if (pipe_ino(c->wfd, wp, sizeof wp) && strstr(s.s, wp)) engine_end = 1 ;
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

/* The handoff: O_NONBLOCK on, 'Y', the engine's exec watched, the block read. */
static void ask_tls (ctl *c, int *nb_at_exec, char *engine, size_t emax)
{
  check_execwatch w ;
  int watching = check_execwatch_start(&w) > 0 ;
  unsigned long end ;
  *nb_at_exec = -1 ;
  engine[0] = 0 ;
  if (watching) check_trace(c->r, "watching %u child process(es) of ours for the engine's exec", w.n) ;
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
    if (watching) check_execwatch_end(&w) ;
    return ;
  }
  check_trace(c->r, "'Y' sent") ;
  end = c->y_ms + c->o->handshake_ms + c->o->bound_ms ;
  c->bcomplete = 0 ;
  for (;;)
  {
    struct pollfd p = { .fd = c->ctl, .events = POLLIN } ;
    unsigned long now = check_ms(c->r) ;
    int r ;
    if (watching)
    {
      pid_t pid = check_execwatch_step(&w) ;
      if (pid > 0)
      {
        char path[64] ;
        ssize_t n ;
        *nb_at_exec = ((flags_of(c->netr) | flags_of(c->netw)) & O_NONBLOCK) != 0 ;
        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid) ;
        n = readlink(path, engine, emax - 1) ;
        engine[n > 0 ? (size_t)n : 0] = 0 ;
        check_trace(c->r, "pid %d exec'd %s, O_NONBLOCK %s", (int)pid, engine, *nb_at_exec ? "set" : "clear") ;
        check_execwatch_end(&w) ;
        watching = 0 ;
      }
      else if (pid < 0) { watching = 0 ; check_trace(c->r, "no traced process left, and no exec seen") ; }
    }
    if (now >= end) break ;
    r = poll(&p, 1, watching ? 1 : (int)(end - now < POLL_MS ? end - now : POLL_MS)) ;
    if (r < 0 && errno != EINTR) strerr_diefsys(UST_EXIT_SYS, "poll") ;
    if (r <= 0) continue ;
    {
      ssize_t got = read(c->ctl, c->block + c->blen, sizeof c->block - c->blen) ;
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
      if (got <= 0) { check_trace(c->r, "EOF on SSLCTLFD after %zu bytes", c->blen) ; close(c->ctl) ; c->ctl = -1 ; break ; }
      c->blen += (size_t)got ;
      c->bcomplete = tlsinfo_block_complete(c->block, c->blen) ;
      if (c->bcomplete || c->blen > TLSINFO_BLOCK_MAX) break ;
    }
  }
  if (watching) check_execwatch_end(&w) ;
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
    else check_rule(c->r, CHECK_WARN, "infoblock", "not observed: no block (the handshake failed)") ;
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
  char line[LINE_MAX_SMTP + 2] ;
  for (unsigned int k = 0 ; k < CHECK_COMMANDS_MAX ; k++)
  {
    char v[16] ;
    int r = read_line(&rd, line, sizeof line) ;
    if (r <= 0)
    {
      if (r == -1) say(c->wfd, "500 5.5.0 Line too long\r\n") ;
      check_trace(c->r, "inside TLS: %s", r == 0 ? "EOF" : r == -1 ? "line too long" : r == -2 ? "idle" : "read error") ;
      return ;
    }
    verb(line, v, sizeof v) ;
    memcpy(c->last, v, sizeof c->last) ;
    c->served++ ;
    if (!strcmp(v, "EHLO")) say(c->wfd, "250-ucspitls-check\r\n250 8BITMIME\r\n") ;
    else if (!strcmp(v, "QUIT")) { say(c->wfd, "221 2.0.0 Bye\r\n") ; return ; }
    else if (!strcmp(v, "STARTTLS")) say(c->wfd, "503 5.5.1 TLS already active\r\n") ;
    else if (!strcmp(v, "DATA"))
    {
      size_t total = 0 ;
      say(c->wfd, "354 End data with <CR><LF>.<CR><LF>\r\n") ;
      for (;;)
      {
        r = read_line(&rd, line, sizeof line) ;
        if (r <= 0 || (total += strlen(line)) > DATA_MAX) { say(c->wfd, "552 5.3.4 Message too big or line too long\r\n") ; return ; }
        if (!strcmp(line, ".\r\n") || !strcmp(line, ".\n")) break ;
      }
      say(c->wfd, "250 2.0.0 Accepted and discarded\r\n") ;
    }
    else if (!strcmp(v, "HELO") || !strcmp(v, "MAIL") || !strcmp(v, "RCPT") || !strcmp(v, "RSET") || !strcmp(v, "NOOP")) say(c->wfd, "250 2.0.0 OK\r\n") ;
    else say(c->wfd, "502 5.5.2 Command not implemented\r\n") ;
  }
}

/* The client role: one SMTP reply (multi-line) into its code; 0 if none. */
static int read_reply (reader *rd, char *text, size_t tmax)
{
  char line[LINE_MAX_SMTP + 2] ;
  size_t tl = 0 ;
  text[0] = 0 ;
  for (unsigned int k = 0 ; k < 100 ; k++)
  {
    size_t len ;
    if (read_line(rd, line, sizeof line) <= 0) return 0 ;
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
    if (read_reply(&rd, text, sizeof text) != 220) { snprintf(why, wmax, "no 220 greeting from the server") ; return 0 ; }
    say(c->netw, "EHLO ucspitls-check\r\n") ;
    if (read_reply(&rd, text, sizeof text) != 250) { snprintf(why, wmax, "EHLO was refused") ; return 0 ; }
    if (!strcasestr(text, "STARTTLS")) { say(c->netw, "QUIT\r\n") ; snprintf(why, wmax, "the server does not offer STARTTLS") ; return 0 ; }
    if (!c->vars_ok) { say(c->netw, "QUIT\r\n") ; snprintf(why, wmax, "no usable UCSPI-TLS variables") ; return 0 ; }
    say(c->netw, "STARTTLS\r\n") ;
    if (read_reply(&rd, text, sizeof text) != 220) { snprintf(why, wmax, "STARTTLS was refused") ; return 0 ; }
    return 1 ;
  }
  say(c->netw, "220 ucspitls-check ESMTP: checking the UCSPI-TLS controller\r\n") ;
  for (unsigned int k = 0 ; k < CHECK_COMMANDS_MAX ; k++)
  {
    char line[LINE_MAX_SMTP + 2], v[16] ;
    int r = read_line(&rd, line, sizeof line) ;
    if (r <= 0)
    {
      if (r == -1) say(c->netw, "500 5.5.0 Line too long\r\n") ;
      snprintf(why, wmax, "%s before STARTTLS", r == 0 ? "the client left" : r == -1 ? "a line too long" : r == -2 ? "the client was idle" : "a read error") ;
      return 0 ;
    }
    verb(line, v, sizeof v) ;
    if (!strcmp(v, "EHLO")) say(c->netw, c->vars_ok ? "250-ucspitls-check\r\n250 STARTTLS\r\n" : "250 ucspitls-check\r\n") ;
    else if (!strcmp(v, "HELO") || !strcmp(v, "NOOP") || !strcmp(v, "RSET")) say(c->netw, "250 2.0.0 OK\r\n") ;
    else if (!strcmp(v, "QUIT")) { say(c->netw, "221 2.0.0 Bye\r\n") ; snprintf(why, wmax, "the client quit before STARTTLS") ; return 0 ; }
    else if (!strcmp(v, "STARTTLS"))
    {
      if (!c->vars_ok) { say(c->netw, "454 4.7.0 TLS not available\r\n") ; continue ; }
      say(c->netw, "220 2.0.0 Ready to start TLS\r\n") ;
      return 1 ;
    }
    else say(c->netw, "530 5.7.0 Must issue a STARTTLS command first\r\n") ;
  }
  snprintf(why, wmax, "%u commands before STARTTLS", CHECK_COMMANDS_MAX) ;
  return 0 ;
}

static void not_observed (ctl *c, char const *why)
{
  static char const *const rules[] = { "nonblock", "handshake", "infoblock", "ctl-close", "session", 0 } ;
  for (char const *const *r = rules ; *r ; r++) check_rule(c->r, CHECK_WARN, *r, "not observed: %s", why) ;
}

int check_ctl_main (check_options const *o, char const *const *envp)
{
  check_report r ;
  ctl c = { .o = o, .r = &r, .netr = o->client ? 6 : 0, .netw = o->client ? 7 : 1, .ctl = -1, .rfd = -1, .wfd = -1 } ;
  char why[256], engine[256] ;
  int nb_at_exec ;
  tlsinfo info ;
  unsigned long block_ms ;
  if (!fd_open(c.netr) || !fd_open(c.netw)) strerr_dief(UST_EXIT_USAGE, o->client ? "-c: descriptors 6 and 7 must be the connection to the server (run under tcpclient and ucspitlsc)" : "descriptors 0 and 1 must be the client's connection") ;
  check_report_init(&r, o->verbosity, o->client ? "controller (client side)" : "controller") ;
  check_vars(&c, envp) ;
  check_leaks(&c) ;
  if (!dialogue(&c, why, sizeof why))
  {
    not_observed(&c, why) ;
    return check_report_end(&r, o->output) ;
  }
  ask_tls(&c, &nb_at_exec, engine, sizeof engine) ;
  block_ms = check_ms(&r) ;
  if (c.bcomplete > 0)
    check_rule(&r, CHECK_PASS, "handshake", "the info block came %lums after 'Y'", block_ms - c.y_ms) ;
  else if (!c.blen && c.ctl < 0)
    check_rule(&r, CHECK_PASS, "handshake", "no TLS session: SSLCTLFD was closed with no block %lums after 'Y' (the handshake failed or timed out, and the controller ended it)", block_ms - c.y_ms) ;
  else if (c.blen)
    check_rule(&r, CHECK_FAIL, "handshake", "%zu bytes of a block, not terminated, %lums after 'Y'", c.blen, block_ms - c.y_ms) ;
  else
    check_rule(&r, CHECK_FAIL, "handshake", "nothing on SSLCTLFD %lums after 'Y': the controller has no handshake deadline, or a longer one than -K %u", block_ms - c.y_ms, o->handshake_ms) ;
  memset(&info, 0, sizeof info) ;
  check_block(&c, &info, block_ms) ;
  if (c.bcomplete > 0)
  {
    check_close(&c, block_ms) ;
    if (o->client)
    {
      reader rd = { .fd = c.rfd, .bytewise = 0 } ;
      char text[4096] ;
      int code ;
      say(c.wfd, "EHLO ucspitls-check\r\n") ;
      code = read_reply(&rd, text, sizeof text) ;
      if (code == 250) { c.served = 1 ; say(c.wfd, "QUIT\r\n") ; read_reply(&rd, text, sizeof text) ; }
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
    check_rule(&r, CHECK_WARN, "ctl-close", "not observed: no block") ;
    check_rule(&r, CHECK_WARN, "session", "not observed: no TLS session") ;
  }
  if (o->leave_blocking) check_rule(&r, CHECK_WARN, "nonblock", "not observed: -n, O_NONBLOCK was not set before 'Y'") ;
  else if (nb_at_exec == 0)
    check_rule(&r, CHECK_PASS, "nonblock", "O_NONBLOCK was set on the network socket before 'Y'; the controller had cleared it when it exec'd %s", engine) ;
  else if (nb_at_exec > 0)
    check_rule(&r, CHECK_FAIL, "nonblock", "O_NONBLOCK set before 'Y' was still set when the controller exec'd %s: it does not clear it (the flag belongs to the open file, so the engine inherits it; %s)", engine,
      c.served ? "this engine worked with it all the same, a libtls one fails in most sessions" : "and the session did not work") ;
  else
  {
    int nb = ((flags_of(c.netr) | flags_of(c.netw)) & O_NONBLOCK) != 0 ;
    check_rule(&r, nb ? CHECK_WARN : CHECK_PASS, "nonblock", "no engine exec seen among our descendants (a controller that is our parent, or does TLS itself): O_NONBLOCK was %s when the block came%s", nb ? "set" : "clear",
      nb ? " (the controller did not clear it, or its engine set it for itself: not distinguishable from here)" : "") ;
  }
  if (c.wfd >= 0) close(c.wfd) ;
  if (c.rfd >= 0) close(c.rfd) ;
  if (c.ctl >= 0) close(c.ctl) ;
  return check_report_end(&r, o->output) ;
}

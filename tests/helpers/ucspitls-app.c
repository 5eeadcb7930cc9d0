/* ucspitls-app.c: the UCSPI-TLS test application (server side, under
   ucspitlsd): a line protocol on fds 0/1 that can switch to TLS with
   libucspitls and goes on with the same protocol on SSLREADFD/SSLWRITEFD.

   It sends one greeting line, then answers every command line with exactly
   one line (QUIT: "BYE", then exits; EOF: "EOF", then exits 0):
     STARTTLS y | STARTTLS Y   "OK", then ucspitls_start without / with the info block
     STARTTLS S6               "OK", then s6-style by hand: clear O_NONBLOCK on 0/1,
                               write 'Y', read SSLCTLFD until EOF, parse the block
     STARTTLS RAW              "OK", then write 'y' by hand, leaving O_NONBLOCK alone
     NOTLS                     ucspitls_decline, "DECLINED"
     NB                        O_NONBLOCK on 0, 1 and the three SSL fds, "NB"
     BYTE c | BYTE \xHH        writes that one byte on SSLCTLFD, "SENT"
     CTLREAD                   "CTL EOF" | "CTL DATA" | "CTL TIMEOUT" (10 s) | "CTL CLOSED"
     WAIT                      waits (10 s) for a child: "CHILD exit=N" | "CHILD signal=N" | "CHILD none"
     FDS                       "FDS 0 1 2 ..." (open descriptors, from /proc/self/fd)
     PID                       "PID n"
     ENV NAME                  "ENV NAME=value" | "ENV NAME unset"
     INFO NAME                 the info block's NAME: "INFO NAME=value" | "INFO NAME unset"
     ECHO text                 "ECHO text"
     BIG n                     n bytes of a-z pattern, then "\n"
     QUIT                      "BYE"
   Events also go, one per line, to the file named by $UST_APP_LOG (opened and
   closed for each line: the application must hold no extra descriptor).
   $UST_APP_TIMEOUT: ms for the info block (default 20000).
   If the start fails the application logs why and exits 98. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "ucspitls.h"

extern char **environ ;

static int in = 0, out = 1 ;
static int tls = 0 ;
static ucspitls u = UCSPITLS_ZERO ;
static int have_u = 0 ;
static tlsinfo info ;
static int have_info = 0 ;

static void logline (char const *fmt, ...)
{
  char const *path = getenv("UST_APP_LOG") ;
  char buf[8192] ;
  va_list ap ;
  int fd, n ;
  if (!path) return ;
  va_start(ap, fmt) ;
  n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap) ;
  va_end(ap) ;
  if (n < 0) return ;
  if ((size_t)n > sizeof(buf) - 2) n = sizeof(buf) - 2 ;
  buf[n++] = '\n' ;
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (fd < 0) return ;
  if (write(fd, buf, (size_t)n) < 0) { /* nothing to do */ }
  close(fd) ;
}

static void wait_fd (int fd, short events)
{
  struct pollfd p = { .fd = fd, .events = events } ;
  poll(&p, 1, -1) ;
}

static int put (int fd, char const *buf, size_t len)
{
  while (len)
  {
    ssize_t w = write(fd, buf, len) ;
    if (w < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) { wait_fd(fd, POLLOUT) ; continue ; }
      return -1 ;
    }
    buf += w ; len -= (size_t)w ;
  }
  return 0 ;
}

static void say (char const *fmt, ...)
{
  char buf[8192] ;
  va_list ap ;
  int n ;
  va_start(ap, fmt) ;
  n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap) ;
  va_end(ap) ;
  if (n < 0) return ;
  if ((size_t)n > sizeof(buf) - 2) n = sizeof(buf) - 2 ;
  logline("> %.*s", n, buf) ;
  buf[n++] = '\n' ;
  if (put(out, buf, (size_t)n) < 0) { logline("EXIT write failed: %s", strerror(errno)) ; _exit(111) ; }
}

/* One line, byte by byte: after a STARTTLS line the rest is the engine's.
   Returns its length without the line end, -2 at EOF, -1 on error. */
static ssize_t get_line (char *line, size_t max)
{
  size_t n = 0 ;
  while (n + 1 < max)
  {
    ssize_t r = read(in, line + n, 1) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) { wait_fd(in, POLLIN) ; continue ; }
      if (errno == ECONNRESET) { if (!n) return -2 ; break ; }
      return -1 ;
    }
    if (!r) { if (!n) return -2 ; break ; }
    if (line[n++] == '\n') break ;
  }
  line[n] = 0 ;
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0 ;
  return (ssize_t)n ;
}

static void log_info (void)
{
  logline("INFO SSL_PROTOCOL=%s", info.protocol) ;
  logline("INFO SSL_CIPHER=%s", info.cipher) ;
  logline("INFO SSL_TLS_SNI_SERVERNAME=%s", info.sni) ;
  logline("INFO SSL_PEER_CERT_HASH=%s", info.peer_cert_hash) ;
  logline("INFO SSL_PEER_CERT_SUBJECT=%s", info.peer_cert_subject) ;
}

static void start_failed (char const *how)
{
  logline("START %s FAILED: %s", how, strerror(errno)) ;
  logline("EXIT 98") ;
  _exit(98) ;
}

static void switch_to_tls (char const *how)
{
  in = u.rfd ; out = u.wfd ; tls = 1 ;
  logline("START %s ok", how) ;
  if (have_info) log_info() ;
}

/* The s6-ucspitlsd way: 'Y', then the block until EOF. */
static void start_s6 (void)
{
  char buf[TLSINFO_BLOCK_MAX + 1] ;
  size_t n = 0 ;
  char c = 'Y' ;
  long len ;
  if (ucspitls_fd_block(0) < 0 || ucspitls_fd_block(1) < 0) start_failed("S6") ;
  if (ucspitls_fd_block(u.ctl) < 0) start_failed("S6") ;
  if (write(u.ctl, &c, 1) != 1) start_failed("S6") ;
  for (;;)
  {
    ssize_t r = read(u.ctl, buf + n, sizeof(buf) - n) ;
    if (r < 0) { if (errno == EINTR) continue ; start_failed("S6") ; }
    if (!r) break ;
    n += (size_t)r ;
    if (n >= sizeof(buf)) { errno = EPROTO ; start_failed("S6") ; }
  }
  close(u.ctl) ; u.ctl = -1 ;
  len = tlsinfo_block_complete(buf, n) ;
  if (len <= 0 || tlsinfo_block_parse(buf, (size_t)len, &info) < 0) { errno = EPIPE ; start_failed("S6") ; }
  have_info = 1 ;
  logline("S6 block %zu bytes, %ld up to the terminator", n, len) ;
  switch_to_tls("S6") ;
}

static void cmd_starttls (char const *how)
{
  int const net[2] = { 0, 1 } ;
  unsigned int timeout = 20000 ;
  char const *t = getenv("UST_APP_TIMEOUT") ;
  if (t) timeout = (unsigned int)strtoul(t, 0, 10) ;
  if (tls) { say("ERR already in TLS") ; return ; }
  if (!have_u) { say("ERR no tls") ; return ; }
  if (strcmp(how, "y") && strcmp(how, "Y") && strcmp(how, "S6") && strcmp(how, "RAW")) { say("ERR bad mode") ; return ; }
  say("OK") ;
  if (!strcmp(how, "S6")) { start_s6() ; return ; }
  if (!strcmp(how, "RAW"))
  {
    char c = 'y' ;
    if (write(u.ctl, &c, 1) != 1) start_failed(how) ;
    close(u.ctl) ; u.ctl = -1 ;
    switch_to_tls(how) ;
    return ;
  }
  if (ucspitls_start(&u, net, 2, how[0] == 'Y' ? &info : 0, timeout) < 0) start_failed(how) ;
  have_info = how[0] == 'Y' ;
  switch_to_tls(how) ;
}

static void set_nb (int fd)
{
  int flags ;
  if (fd < 0) return ;
  flags = fcntl(fd, F_GETFL) ;
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK) ;
}

static void on_alarm (int sig) { (void)sig ; }

static void cmd_wait (void)
{
  struct sigaction sa ;
  int wstat ;
  pid_t pid ;
  memset(&sa, 0, sizeof(sa)) ;
  sa.sa_handler = on_alarm ;  /* no SA_RESTART: waitpid returns EINTR */
  sigaction(SIGALRM, &sa, 0) ;
  alarm(10) ;
  pid = waitpid(-1, &wstat, 0) ;
  alarm(0) ;
  if (pid < 0) say("CHILD none") ;
  else if (WIFEXITED(wstat)) say("CHILD exit=%d", WEXITSTATUS(wstat)) ;
  else say("CHILD signal=%d", WTERMSIG(wstat)) ;
}

static int cmp_int (void const *a, void const *b)
{
  return *(int const *)a - *(int const *)b ;
}

static void cmd_fds (void)
{
  int fds[256] ;
  unsigned int n = 0 ;
  char buf[2048] ;
  size_t len = 0 ;
  DIR *d = opendir("/proc/self/fd") ;
  struct dirent *e ;
  if (!d) { say("ERR opendir") ; return ; }
  while ((e = readdir(d)) && n < 256)
  {
    int fd ;
    if (e->d_name[0] == '.') continue ;
    fd = atoi(e->d_name) ;
    if (fd == dirfd(d)) continue ;
    fds[n++] = fd ;
  }
  closedir(d) ;
  qsort(fds, n, sizeof(int), cmp_int) ;
  len += (size_t)snprintf(buf + len, sizeof(buf) - len, "FDS") ;
  for (unsigned int i = 0 ; i < n && len < sizeof(buf) - 16 ; i++)
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %d", fds[i]) ;
  say("%s", buf) ;
}

static void cmd_env (char const *name)
{
  size_t len = strlen(name) ;
  for (char **e = environ ; *e ; e++)
    if (!strncmp(*e, name, len) && (*e)[len] == '=') { say("ENV %s", *e) ; return ; }
  say("ENV %s unset", name) ;
}

static void cmd_info (char const *name)
{
  char const *v = 0 ;
  if (!strcmp(name, "SSL_PROTOCOL")) v = info.protocol ;
  else if (!strcmp(name, "SSL_CIPHER")) v = info.cipher ;
  else if (!strcmp(name, "SSL_TLS_SNI_SERVERNAME")) v = info.sni ;
  else if (!strcmp(name, "SSL_PEER_CERT_HASH")) v = info.peer_cert_hash ;
  else if (!strcmp(name, "SSL_PEER_CERT_SUBJECT")) v = info.peer_cert_subject ;
  if (!have_info || !v || !*v) say("INFO %s unset", name) ;
  else say("INFO %s=%s", name, v) ;
}

static void cmd_byte (char const *arg)
{
  char c = arg[0] ;
  if (arg[0] == '\\' && arg[1] == 'x' && arg[2] && arg[3]) c = (char)strtoul(arg + 2, 0, 16) ;
  if (u.ctl < 0) { say("ERR no control socket") ; return ; }
  if (write(u.ctl, &c, 1) != 1) { say("ERR write: %s", strerror(errno)) ; return ; }
  say("SENT") ;
}

static void cmd_ctlread (void)
{
  struct pollfd p = { .fd = u.ctl, .events = POLLIN } ;
  char c ;
  ssize_t r ;
  if (u.ctl < 0) { say("CTL CLOSED") ; return ; }
  if (poll(&p, 1, 10000) <= 0) { say("CTL TIMEOUT") ; return ; }
  r = read(u.ctl, &c, 1) ;
  if (r == 0 || (r < 0 && errno == ECONNRESET)) say("CTL EOF") ;
  else if (r > 0) say("CTL DATA") ;
  else say("CTL ERROR %s", strerror(errno)) ;
}

static void cmd_big (unsigned long n)
{
  static char buf[26 * 2520] ;  /* a whole number of a-z runs: the pattern goes on across chunks */
  for (size_t i = 0 ; i < sizeof(buf) ; i++) buf[i] = (char)('a' + i % 26) ;
  while (n)
  {
    size_t k = n < sizeof(buf) ? n : sizeof(buf) ;
    if (put(out, buf, k) < 0) _exit(111) ;
    n -= k ;
  }
  if (put(out, "\n", 1) < 0) _exit(111) ;
  logline("> BIG done") ;
}

int main (void)
{
  char line[4096] ;
  signal(SIGPIPE, SIG_IGN) ;
  if (ucspitls_from_env(&u, (char const *const *)environ) == 0) have_u = 1 ;
  else logline("no UCSPI-TLS: %s", strerror(errno)) ;
  logline("START app pid %d", (int)getpid()) ;
  say(have_u ? "HELLO tls-available" : "HELLO no-tls") ;
  for (;;)
  {
    ssize_t n = get_line(line, sizeof(line)) ;
    if (n == -1) { logline("EXIT read failed: %s", strerror(errno)) ; return 111 ; }
    if (n == -2)
    {
      logline("EOF") ;
      say("EOF") ;
      logline("EXIT 0") ;
      return 0 ;
    }
    logline("< %s", line) ;
    if (!strncmp(line, "STARTTLS ", 9)) cmd_starttls(line + 9) ;
    else if (!strcmp(line, "NOTLS"))
    {
      ucspitls_decline(&u) ;
      have_u = 0 ;
      say("DECLINED") ;
    }
    else if (!strcmp(line, "NB"))
    {
      set_nb(0) ; set_nb(1) ; set_nb(u.ctl) ; set_nb(u.rfd) ; set_nb(u.wfd) ;
      say("NB") ;
    }
    else if (!strncmp(line, "BYTE ", 5)) cmd_byte(line + 5) ;
    else if (!strcmp(line, "CTLREAD")) cmd_ctlread() ;
    else if (!strcmp(line, "WAIT")) cmd_wait() ;
    else if (!strcmp(line, "FDS")) cmd_fds() ;
    else if (!strcmp(line, "PID")) say("PID %d", (int)getpid()) ;
    else if (!strncmp(line, "ENV ", 4)) cmd_env(line + 4) ;
    else if (!strncmp(line, "INFO ", 5)) cmd_info(line + 5) ;
    else if (!strncmp(line, "ECHO ", 5)) say("ECHO %s", line + 5) ;
    else if (!strncmp(line, "BIG ", 4)) cmd_big(strtoul(line + 4, 0, 10)) ;
    else if (!strcmp(line, "QUIT")) { say("BYE") ; logline("EXIT 0") ; return 0 ; }
    else say("ERR unknown command") ;
  }
}

/* client_main.c: the whole of a client proxy program: the command line,
   the program it may run, the dialogue before TLS, the start of TLS and
   what it proved, the relay, and the end of every process within a bound. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "client-internal.h"
#include "exitcodes.h"
#include "ust.h"

#define USAGE_TAIL " [ -O ] [ -p SHA256:hex ]... [ -t ms ] [ -w ms ] [ -K ms ] [ -g ms ] [ -l bytes ] [ -v n ] [ -- prog... ]"

void cp_log (cp_session const *c, unsigned int level, char const *a, char const *b)
{
  char const *ip = getenv("TCPREMOTEIP") ;
  if (c->o.verbosity < level) return ;
  strerr_warn(PROG, ": info: ", ip ? ip : "-", ": ", a, b ? b : "") ;
}

static void pin_arg (cp_options *o, char const *s)
{
  size_t i ;
  char *p ;
  if (o->npins >= CP_PINS_MAX) strerr_dief(UST_EXIT_USAGE, "-p: at most 4 pins") ;
  if (strncasecmp(s, "SHA256:", 7) || strlen(s) != 71) strerr_dief(UST_EXIT_USAGE, "-p must be SHA256: and 64 hex digits (as SSL_PEER_CERT_HASH reports it), not: ", s) ;
  p = o->pins[o->npins++] ;
  memcpy(p, "SHA256:", 7) ;
  for (i = 7 ; i < 71 ; i++)
  {
    char ch = s[i] ;
    if (ch >= 'A' && ch <= 'F') ch = (char)(ch - 'A' + 'a') ;
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) strerr_dief(UST_EXIT_USAGE, "-p must be SHA256: and 64 hex digits, not: ", s) ;
    p[i] = ch ;
  }
  p[71] = 0 ;
}

static void name_arg (char const *s)
{
  size_t i, n = strlen(s) ;
  if (!n || n > 255) strerr_dief(UST_EXIT_USAGE, "-h: a name of 1 to 255 bytes") ;
  for (i = 0 ; i < n ; i++)
    if (s[i] <= ' ' || s[i] > '~') strerr_dief(UST_EXIT_USAGE, "-h: a name of printable ASCII without spaces, not: ", s) ;
}

/* The EHLO name when -h is not given: the local host's name tcpclient
   found, else the local address as an address literal, else "localhost". */
static int domain_like (char const *h)
{
  size_t n = strlen(h) ;
  if (!n || n > 253 || !strchr(h, '.') || h[0] == '.' || h[0] == '-' || h[n - 1] == '.' || strstr(h, "..")) return 0 ;
  return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n ;
}

static char const *default_ehlo (char *buf, size_t max)
{
  char const *h = getenv("TCPLOCALHOST"), *ip = getenv("TCPLOCALIP") ;
  /* a domain, not what -l0 leaves ("0") nor a bare host name a server may refuse */
  if (h && domain_like(h)) return h ;
  if (ip && *ip && strlen(ip) + 8 < max && !strpbrk(ip, " \t\r\n[]"))
  {
    size_t n = 0 ;
    buf[n++] = '[' ;
    if (strchr(ip, ':')) { memcpy(buf + n, "IPv6:", 5) ; n += 5 ; }
    memcpy(buf + n, ip, strlen(ip)) ; n += strlen(ip) ;
    buf[n++] = ']' ; buf[n] = 0 ;
    return buf ;
  }
  return "localhost" ;
}

/* The program keeps the pid and gets the cleartext on 6 (from the server)
   and 7 (to it), the tcpclient convention; the child proxies. */
static void spawn_prog (cp_session *c, char const *const *argv, char const *const *envp)
{
  int toprog[2], fromprog[2] ;
  pid_t pid ;
  if (pipecoe(toprog) < 0 || pipecoe(fromprog) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  c->prog_pid = getpid() ;
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (pid)
  {
    size_t n = 0 ;
    while (envp[n]) n++ ;
    {
      char const *env[n + 1] ;
      if (c->u.ctl >= 0) close(c->u.ctl) ;
      if (c->u.rfd >= 0) close(c->u.rfd) ;
      if (c->u.wfd >= 0) close(c->u.wfd) ;
      close(toprog[1]) ; close(fromprog[0]) ;
      /* the network on 6/7 is closed here: the program never touches it */
      if (fd_move2(6, toprog[0], 7, fromprog[1]) < 0) strerr_diefsys(UST_EXIT_SYS, "move descriptors") ;
      if (ust_env_filter(env, n + 1, envp, 0, ust_ucspitls_vars) < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
      if (strchr(argv[0], '/')) execve(argv[0], (char *const *)argv, (char *const *)env) ;
      else execvpe(argv[0], (char *const *)argv, (char *const *)env) ;
      strerr_diefsys(UST_EXIT_SYS, "exec ", argv[0]) ;
    }
  }
  close(toprog[0]) ; close(fromprog[1]) ;
  /* 0 and 1 are the program's (a queue may wait for EOF on its output): the
     proxy keeps only stderr, for its log */
  {
    int null = open("/dev/null", O_RDWR) ;
    if (null < 0 || fd_copy(0, null) < 0 || fd_copy(1, null) < 0) strerr_diefsys(UST_EXIT_SYS, "/dev/null") ;
    if (null > 2) close(null) ;
  }
  c->prog_pidfd = getppid() == c->prog_pid ? ust_pidfd_open((int)c->prog_pid) : -1 ;
  if (c->prog_pidfd >= 0 && getppid() != c->prog_pid) { close(c->prog_pidfd) ; c->prog_pidfd = -1 ; }
  c->cin = fromprog[0] ;
  c->cout = toprog[1] ;
}

/* What TLS proved: a pin, if given, matches; without one, a name was checked. */
static char const *verified (cp_session *c)
{
  unsigned int i ;
  if (!c->o.npins) return c->info.sni[0] ? 0 : "no server name was verified (ucspitlsc without -k): give -k, or a pin with -p" ;
  for (i = 0 ; i < c->o.npins ; i++) if (!strcmp(c->o.pins[i], c->info.peer_cert_hash)) return 0 ;
  return c->info.peer_cert_hash[0] ? "the server's certificate matches no -p pin" : "the controller reported no certificate hash to check the -p pins against" ;
}

static void say (int fd, stralloc const *sa)
{
  size_t pos = 0 ;
  while (pos < sa->len)
  {
    struct pollfd x = { .fd = fd, .events = POLLOUT } ;
    ssize_t w = write(fd, sa->s + pos, sa->len - pos) ;
    if (w > 0) { pos += (size_t)w ; continue ; }
    if (w < 0 && errno == EINTR) continue ;
    if (w < 0 && errno == EAGAIN && poll(&x, 1, 10000) > 0) continue ;
    return ;
  }
}

/* No TLS, and TLS was required: the client hears why, never the server. */
static int refuse (cp_session *c, char const *why, int code)
{
  stralloc out = STRALLOC_ZERO ;
  char codes[UINT_FMT] ;
  ust_catb(&out, c->proto->refusal, strlen(c->proto->refusal)) ;
  {
    static char const text[] = "TLS to the server is required and could not be had\r\n" ;
    ust_catb(&out, text, sizeof(text) - 1) ;
  }
  say(c->cout, &out) ;
  stralloc_free(&out) ;
  codes[uint_fmt(codes, (unsigned int)code)] = 0 ;
  if (c->o.verbosity >= 1)
  {
    char const *ip = getenv("TCPREMOTEIP") ;
    strerr_warn(PROG, ": info: ", ip ? ip : "-", ": session refused: no TLS: ", why, "; exit code ", codes) ;
  }
  if (!c->prog_pid) ust_linger(c->cin, c->cout, UST_LINGER_MS, UST_LINGER_MAX) ;
  return code ;
}

static int verdict_code (cp_verdict v)
{
  switch (v)
  {
    case CP_TIMEOUT : return UST_EXIT_IDLE ;
    case CP_IOERR : return UST_EXIT_SYS ;
    default : return UST_EXIT_TLS ;
  }
}

static void summary (cp_session const *c, int code, char const *mode)
{
  char codes[UINT_FMT + 16] ;
  char const *ip = getenv("TCPREMOTEIP") ;
  if (c->o.verbosity < 1) return ;
  memcpy(codes, "; exit code ", 12) ;
  codes[12 + uint_fmt(codes + 12, (unsigned int)code)] = 0 ;
  if (c->tls)
    strerr_warn(PROG, ": info: ", ip ? ip : "-", ": session ended: tls ", c->info.protocol, " ", c->info.cipher,
      c->o.npins ? " (pinned certificate " : c->info.sni[0] ? " (server name " : "",
      c->o.npins ? c->info.peer_cert_hash : c->info.sni, c->o.npins || c->info.sni[0] ? " verified)" : "",
      code ? codes : "") ;
  else strerr_warn(PROG, ": info: ", ip ? ip : "-", ": session ended: ", mode, code ? codes : "") ;
}

static int run (cp_session *c)
{
  int net[2] = { 6, 7 } ;
  char const *why ;
  char mode[sizeof(c->d.why) + 64] = "" ;
  int code ;
  cp_verdict v ;
  cp_reader_fd(&c->d.r, 6, c->o.line_max, c->o.step_ms) ;
  c->d.wfd = 7 ;
  v = c->proto->dialogue(&c->d) ;
  if (v == CP_START_TLS)
  {
    cp_log(c, 2, c->proto->verb, " accepted: the handshake starts") ;
    if (ucspitls_start(&c->u, net, 2, &c->info, c->o.handshake_ms) < 0)
    {
      int e = errno ;
      close(6) ; close(7) ;
      return refuse(c, e == ETIMEDOUT ? "the TLS handshake did not end within -K" : "the TLS handshake or the verification of the server failed (see the engine's line)", e == ETIMEDOUT ? UST_EXIT_IDLE : UST_EXIT_TLS) ;
    }
    /* the engine has the connection now: never a byte of it here again */
    close(6) ; close(7) ;
    c->tls = 1 ;
    why = verified(c) ;
    if (why) { c->tls = 0 ; return refuse(c, why, UST_EXIT_TLS) ; }
    c->sin = c->u.rfd ; c->sout = c->u.wfd ;
    if (c->proto->after_tls)
    {
      cp_reader_fd(&c->d.r, c->sin, c->o.line_max, c->o.step_ms) ;
      c->d.wfd = c->sout ;
      v = c->proto->after_tls(&c->d) ;
      if (v != CP_OK) { c->tls = 0 ; return refuse(c, c->d.why, verdict_code(v)) ; }
      if (c->d.tls_caps_after) cp_log(c, 1, "warning: the server still offers STARTTLS inside TLS (RFC 3207 4.2): the client is not shown it", 0) ;
    }
  }
  else if ((v == CP_NOT_OFFERED || v == CP_REFUSED) && c->o.opportunistic)
  {
    ucspitls_decline(&c->u) ;
    c->sin = 6 ; c->sout = 7 ;
    memcpy(mode, "cleartext (-O, opportunistic): ", 31) ;
    memcpy(mode + 31, c->d.why, strlen(c->d.why) + 1) ;
    cp_log(c, 2, "no TLS, going on in cleartext (-O): ", c->d.why) ;
  }
  else
  {
    if (v == CP_INJECTION) cp_log(c, 1, "injection attempt: ", c->d.why) ;
    ucspitls_decline(&c->u) ;
    close(6) ; close(7) ;
    return refuse(c, c->d.why, verdict_code(v)) ;
  }
  if (ndelay_on(c->cin) < 0 || ndelay_on(c->cout) < 0 || ndelay_on(c->sin) < 0 || ndelay_on(c->sout) < 0)
    strerr_diefsys(UST_EXIT_SYS, "set descriptors non-blocking") ;
  cp_filter_init(&c->filter, c->proto->filter, c->o.line_max) ;
  c->filter.cleartext = !c->tls ;
  code = cp_relay(c) ;
  if (c->filter.dropped) cp_log(c, 2, "capabilities the client cannot use were taken out of the server's replies", 0) ;
  cp_filter_free(&c->filter) ;
  /* the connection and the client's socket are not ours to leave
     non-blocking; the server's side is closed now, before the program's
     -g: the engine's pipes (the relay may have closed the one to it), or
     in cleartext the connection itself */
  ndelay_off(c->cin) ;
  if (c->cout >= 0) ndelay_off(c->cout) ;
  if (c->tls) { if (c->sout < 0) c->u.wfd = -1 ; }
  else
  {
    ndelay_off(6) ; close(6) ;
    if (c->sout >= 0) { ndelay_off(7) ; close(7) ; }
  }
  summary(c, code, mode) ;
  return code ;
}

int cp_main (cp_protocol const *proto, char const *name, int argc, char const *const *argv, char const *const *envp)
{
  static cp_session session ;  /* big buffers: not on the stack */
  cp_session *c = &session ;
  subgetopt l = SUBGETOPT_ZERO ;
  char ehlo[64] ;
  int code ;
  PROG = name ;
  c->proto = proto ;
  c->o.idle_ms = proto->idle_ms ;
  c->o.step_ms = 60000 ;
  c->o.handshake_ms = 60000 ;
  c->o.grace_ms = UST_END_GRACE_MS ;
  c->o.verbosity = 1 ;
  c->o.line_max = proto->line_max ;
  c->prog_pidfd = -1 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, proto->after_tls ? "Oh:p:t:w:K:g:l:v:" : "Op:t:w:K:g:l:v:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'O' : c->o.opportunistic = 1 ; break ;
      case 'h' : name_arg(l.arg) ; c->o.ehlo_name = l.arg ; break ;
      case 'p' : pin_arg(&c->o, l.arg) ; break ;
      case 't' : c->o.idle_ms = ust_uint_opt(l.arg, "-t") ; break ;
      case 'w' : c->o.step_ms = ust_uint_opt(l.arg, "-w") ; if (!c->o.step_ms) strerr_dief(UST_EXIT_USAGE, "-w must be at least 1") ; break ;
      case 'K' : c->o.handshake_ms = ust_uint_opt(l.arg, "-K") ; break ;
      case 'g' : c->o.grace_ms = ust_uint_opt(l.arg, "-g") ; break ;
      case 'l' :
        c->o.line_max = ust_uint_opt(l.arg, "-l") ;
        if (c->o.line_max < 512 || c->o.line_max > CP_BUF) strerr_dief(UST_EXIT_USAGE, "-l must be between 512 and 65536") ;
        break ;
      case 'v' : c->o.verbosity = ust_uint_opt(l.arg, "-v") ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", name, proto->after_tls ? " [ -h ehloname ]" : "", USAGE_TAIL) ;
    }
  }
  c->d.ehlo_name = c->o.ehlo_name ? c->o.ehlo_name : default_ehlo(ehlo, sizeof ehlo) ;
  if (ucspitls_from_env(&c->u, envp) < 0)
    strerr_dief(UST_EXIT_USAGE, "not under a UCSPI-TLS controller (SSLCTLFD, SSLREADFD, SSLWRITEFD): run me under ucspitlsc") ;
  if (fcntl(6, F_GETFD) < 0 || fcntl(7, F_GETFD) < 0)
    strerr_dief(UST_EXIT_USAGE, "no connection to the server on descriptors 6 and 7: run me under tcpclient and ucspitlsc") ;
  if (l.ind < argc) spawn_prog(c, argv + l.ind, envp) ;
  else { c->cin = 0 ; c->cout = 1 ; }
  /* a reader that left is EPIPE, not our death; the program keeps its own disposition */
  signal(SIGPIPE, SIG_IGN) ;
  code = run(c) ;
  /* every descriptor of the session, then the program, within -g and 5 s */
  ucspitls_decline(&c->u) ;
  if (c->prog_pid)
  {
    close(c->cin) ;
    if (c->cout >= 0) close(c->cout) ;
    c->cin = c->cout = -1 ;
    switch (ust_end_process(c->prog_pidfd, (int)c->prog_pid, c->o.grace_ms, UST_END_KILL_MS))
    {
      case 1 : cp_log(c, 1, "the program did not end after the session: SIGTERM sent", 0) ; break ;
      case 2 : cp_log(c, 1, "the program did not end after SIGTERM: SIGKILL sent", 0) ; break ;
      default : break ;
    }
  }
  return code ;
}

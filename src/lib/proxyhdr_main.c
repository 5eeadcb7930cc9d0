/* proxyhdr_main.c: proxy-header: trust the balancer, read its one PROXY header from fd 0 within a deadline, exec prog with the client's addresses. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "proxyhdr.h"
#include "ust.h"

#define USAGE "proxy-header -a addresses [ -p ] [ -t ms ] [ -v n ] [ -- ] prog ..."

typedef struct options_s {
  proxyhdr_addr trusted[PROXYHDR_TRUSTED_MAX] ;  /* -a: the balancers */
  unsigned int ntrusted ;
  int passthrough ;          /* -p: a connection from elsewhere goes on unchanged, no header read */
  unsigned int timeout_ms ;  /* -t: for the whole header; 0: none */
  unsigned int verbosity ;
} options ;

/* One connection's read of its header. */
typedef struct reader_s {
  unsigned char buf[PROXYHDR_MAX] ;
  size_t len ;
  proxyhdr header ;
  char const *why ;          /* when the header is bad */
} reader ;

typedef enum read_result_e {
  READ_DONE,      /* reader.header holds a valid header, and not one byte more was read */
  READ_BAD,       /* reader.why says what is wrong */
  READ_EOF,       /* the connection ended inside the header */
  READ_TIMEOUT    /* the deadline passed */
} read_result ;

static int options_parse (options *o, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  o->ntrusted = 0 ;
  o->passthrough = 0 ;
  o->timeout_ms = PROXYHDR_TIMEOUT_MS_DEFAULT ;
  o->verbosity = 1 ;
  for (;;)
  {
    char const *bad ;
    int opt = subgetopt_r(argc, argv, "a:pt:v:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'a' :
        if (!proxyhdr_addr_list(l.arg, o->trusted, &o->ntrusted, PROXYHDR_TRUSTED_MAX, &bad))
        {
          if (!bad) strerr_dief(UST_EXIT_USAGE, "-a: too many addresses (at most 64)") ;
          strerr_dief(UST_EXIT_USAGE, "-a: not an IPv4 or IPv6 address: ", bad) ;
        }
        break ;
      case 'p' : o->passthrough = 1 ; break ;
      case 't' : if (!ust_uint(l.arg, &o->timeout_ms)) strerr_dief(UST_EXIT_USAGE, "-t must be a non-negative integer, not: ", l.arg) ; break ;
      case 'v' : if (!ust_uint(l.arg, &o->verbosity)) strerr_dief(UST_EXIT_USAGE, "-v must be a non-negative integer, not: ", l.arg) ; break ;
      default : strerr_dief(UST_EXIT_USAGE, "usage: ", USAGE) ;
    }
  }
  if (!o->ntrusted) strerr_dief(UST_EXIT_USAGE, "-a is mandatory; usage: ", USAGE) ;
  if (l.ind >= argc) strerr_dief(UST_EXIT_USAGE, "usage: ", USAGE) ;
  return l.ind ;
}

/* Reads one header from fd. Each read asks for no more than the parser
   says certainly belongs to the header, so the byte after it stays in the
   socket for prog: no MSG_PEEK needed, and a v1 header costs a few dozen
   small reads at most. The deadline covers the whole header, so a sender
   trickling a byte at a time gains nothing. Dies 111 on a system error. */
static read_result read_header (int fd, reader *r, unsigned int timeout_ms)
{
  struct timespec t0 ;
  ust_ms_start(&t0) ;
  r->len = 0 ;
  for (;;)
  {
    struct pollfd p = { .fd = fd, .events = POLLIN } ;
    int need = proxyhdr_parse(r->buf, r->len, &r->header, &r->why) ;
    int ms = -1 ;
    ssize_t got ;
    if (!need) return READ_DONE ;
    if (need < 0) return READ_BAD ;
    if ((size_t)need > sizeof(r->buf) - r->len) { r->why = "longer than any header" ; return READ_BAD ; }  /* the parser forbids it */
    if (timeout_ms)
    {
      long left = ust_ms_left(&t0, timeout_ms) ;
      if (left <= 0) return READ_TIMEOUT ;
      ms = left > 0x7fffffffL ? 0x7fffffff : (int)left ;
    }
    got = poll(&p, 1, ms) ;
    if (got < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefsys(UST_EXIT_SYS, "poll") ;
    }
    if (!got) continue ;  /* ust_ms_left ends it */
    /* Non-blocking for this read only: the open file is prog's too, and keeps its flags. */
    got = recv(fd, r->buf + r->len, (size_t)need, MSG_DONTWAIT) ;
    if (got < 0 && errno == ENOTSOCK) got = read(fd, r->buf + r->len, (size_t)need) ;
    if (got < 0)
    {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue ;
      if (errno == ECONNRESET) return READ_EOF ;
      strerr_diefsys(UST_EXIT_SYS, "read the PROXY header") ;
    }
    if (!got) return READ_EOF ;
    r->len += (size_t)got ;
  }
}

/* Execs prog with envp, the listener's TCP variables replaced by the
   header's addresses (h NULL: unchanged). The host and ident names
   described the balancer's connection: they go, nobody looked up the client. */
static void exec_prog (char const *const *argv, char const *const *envp, proxyhdr const *h)
{
  /* ucspi-tcp6 sets the same facts as TCP6*: they described the balancer too */
  static char const *const replaced[] = { "PROTO", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPREMOTEHOST", "TCPREMOTEINFO", "TCPLOCALIP", "TCPLOCALPORT", "TCPLOCALHOST",
    "TCP6REMOTEIP", "TCP6REMOTEPORT", "TCP6REMOTEHOST", "TCP6REMOTEINFO", "TCP6LOCALIP", "TCP6LOCALPORT", "TCP6LOCALHOST", "TCP6INTERFACE", 0 } ;
  char vars[5][16 + PROXYHDR_IP_MAX] ;
  size_t n = 0 ;
  while (envp[n]) n++ ;
  {
    char const *env[n + 6] ;
    int k = ust_env_filter(env, n + 6, envp, 1, h ? replaced : 0) ;
    if (k < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
    if (h)
    {
      memcpy(vars[0], "PROTO=TCP", 10) ;
      memcpy(vars[1], "TCPREMOTEIP=", 12) ; memcpy(vars[1] + 12, h->src_ip, strlen(h->src_ip) + 1) ;
      memcpy(vars[2], "TCPREMOTEPORT=", 14) ; vars[2][14 + uint_fmt(vars[2] + 14, h->src_port)] = 0 ;
      memcpy(vars[3], "TCPLOCALIP=", 11) ; memcpy(vars[3] + 11, h->dst_ip, strlen(h->dst_ip) + 1) ;
      memcpy(vars[4], "TCPLOCALPORT=", 13) ; vars[4][13 + uint_fmt(vars[4] + 13, h->dst_port)] = 0 ;
      for (unsigned int i = 0 ; i < 5 ; i++) env[k++] = vars[i] ;
      env[k] = 0 ;
    }
    if (strchr(argv[0], '/')) execve(argv[0], (char *const *)argv, (char *const *)env) ;
    else execvpe(argv[0], (char *const *)argv, (char *const *)env) ;
  }
  strerr_diefsys(UST_EXIT_SYS, "exec ", argv[0]) ;
}

static void log_taken (char const *peer, proxyhdr const *h)
{
  char ver[UINT_FMT], sport[UINT_FMT], dport[UINT_FMT] ;
  ver[uint_fmt(ver, h->version)] = 0 ;
  if (h->kind == PROXYHDR_LOCAL)
  {
    strerr_warn(PROG, ": info: ", peer, ": PROXY v", ver, h->version == 1 ? " UNKNOWN" : " LOCAL or no address family",
      ": the balancer's own connection, addresses unchanged") ;
    return ;
  }
  sport[uint_fmt(sport, h->src_port)] = 0 ;
  dport[uint_fmt(dport, h->dst_port)] = 0 ;
  strerr_warn(PROG, ": info: ", peer, ": PROXY v", ver, h->kind == PROXYHDR_TCP4 ? " TCP4" : " TCP6",
    ": client ", h->src_ip, " port ", sport, ", to ", h->dst_ip, " port ", dport) ;
}

int proxyhdr_main (int argc, char const *const *argv, char const *const *envp)
{
  options o ;
  reader r ;
  char const *peer ;
  char count[UINT_FMT], ms[UINT_FMT] ;
  int i = options_parse(&o, argc, argv) ;
  peer = ust_getenv(envp, "TCPREMOTEIP") ;
  if (!peer || !*peer) strerr_dief(UST_EXIT_USAGE, "TCPREMOTEIP is not set: run under a UCSPI server such as tcpserver") ;
  if (!proxyhdr_addr_trusted(peer, o.trusted, o.ntrusted))
  {
    if (!o.passthrough) strerr_dief(UST_EXIT_PROXYHDR, peer, ": connection refused: not a trusted balancer (-a)") ;
    if (o.verbosity >= 2) strerr_warn(PROG, ": info: ", peer, ": not a trusted balancer: passed through unchanged (-p)") ;
    exec_prog(argv + i, envp, 0) ;
  }
  switch (read_header(0, &r, o.timeout_ms))
  {
    case READ_DONE : break ;
    case READ_BAD : strerr_dief(UST_EXIT_PROXYHDR, peer, ": bad PROXY header: ", r.why) ;
    case READ_EOF :
      count[uint_fmt(count, (unsigned int)r.len)] = 0 ;
      strerr_dief(UST_EXIT_PROXYHDR, peer, ": bad PROXY header: truncated: the connection ended after ", count, " bytes") ;
    case READ_TIMEOUT :
      count[uint_fmt(count, (unsigned int)r.len)] = 0 ;
      ms[uint_fmt(ms, o.timeout_ms)] = 0 ;
      strerr_dief(UST_EXIT_PROXYHDR, peer, ": no complete PROXY header within ", ms, " ms (", count, " bytes read)") ;
  }
  if (o.verbosity >= 2) log_taken(peer, &r.header) ;
  exec_prog(argv + i, envp, r.header.kind == PROXYHDR_LOCAL ? 0 : &r.header) ;
  return UST_EXIT_SYS ;
}

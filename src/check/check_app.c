/* check_app.c: application mode: prog runs between the client and us, on a
   socket pair we relay, with the control socket and pipes of a controller. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include "check-app.h"
#include "exitcodes.h"
#include "ust.h"
#include "wrapper.h"

/* 1 if the line (len bytes, no \n) is a STARTTLS (SMTP, IMAP "tag STARTTLS")
   or STLS (POP3) command; an IMAP tag goes to tag. */
static int is_starttls (char const *s, size_t len, char *tag, size_t tagmax)
{
  char const *w[3] ;
  size_t wl[3] ;
  unsigned int n = 0 ;
  size_t i = 0 ;
  if (len && s[len - 1] == '\r') len-- ;
  while (i < len && n < 3)
  {
    while (i < len && s[i] == ' ') i++ ;
    if (i >= len) break ;
    w[n] = s + i ;
    while (i < len && s[i] != ' ') i++ ;
    wl[n] = (size_t)(s + i - w[n]) ;
    n++ ;
  }
  tag[0] = 0 ;
  if (!n) return 0 ;
  if ((wl[0] == 8 && !strncasecmp(w[0], "STARTTLS", 8)) || (wl[0] == 4 && !strncasecmp(w[0], "STLS", 4))) return 1 ;
  if (n == 2 && wl[1] == 8 && !strncasecmp(w[1], "STARTTLS", 8) && wl[0] < tagmax)
  {
    memcpy(tag, w[0], wl[0]) ;
    tag[wl[0]] = 0 ;
    return 1 ;
  }
  return 0 ;
}

/* Client lines completed by what was just given to prog. */
static void scan_lines (check_app *a)
{
  while (a->cscan < a->c2p)
  {
    char const *s = a->cin.s + (a->cscan - a->cbase) ;
    char const *nl = memchr(s, '\n', a->c2p - a->cscan) ;
    size_t len ;
    if (!nl) return ;
    len = (size_t)(nl - s) ;
    a->clines++ ;
    if (is_starttls(s, len, a->stls_tag, sizeof a->stls_tag))
    {
      a->stls = 1 ;
      a->stls_end = a->cscan + len + 1 ;
      a->stls_out = a->pbase + a->pout.len ;
      a->stls_lineno = a->clines ;
      check_trace(a->r, "client line %u is a STARTTLS command (ends at offset %zu)", a->clines, a->stls_end) ;
    }
    a->cscan += len + 1 ;
  }
}

size_t check_app_reply_end (check_app const *a)
{
  size_t p = a->stls_out ;
  size_t tlen = strlen(a->stls_tag) ;
  if (!a->stls) return 0 ;
  while (p < a->pbase + a->pout.len)
  {
    char const *s = a->pout.s + (p - a->pbase) ;
    char const *nl = memchr(s, '\n', a->pbase + a->pout.len - p) ;
    size_t len ;
    int final ;
    if (!nl) return 0 ;
    len = (size_t)(nl - s) ;
    if (tlen) final = len > tlen && !memcmp(s, a->stls_tag, tlen) && s[tlen] == ' ' ;
    else final = !(len >= 4 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] == '-') ;
    p += len + 1 ;
    if (final) return p ;
  }
  return 0 ;
}

/* Reads a client chunk, stopping before a TLS record at a line start: the
   client began its handshake, and those bytes are the engine's. */
static void client_read (check_app *a)
{
  char buf[65536] ;
  size_t cut = 0 ;
  int at_line_start ;
  size_t room = CHECK_LOG_MAX - a->cin.len ;
  ssize_t r = recv(0, buf, room < sizeof buf ? room : sizeof buf, MSG_PEEK | MSG_DONTWAIT) ;
  if (r < 0)
  {
    if (errno == EINTR || errno == EAGAIN) return ;
    if (errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "recv from the client") ;
    r = 0 ;
  }
  if (!r) { a->client_eof = 1 ; check_trace(a->r, "client EOF") ; return ; }
  at_line_start = a->cbase + a->cin.len == 0 || a->cin.s[a->cin.len - 1] == '\n' ;
  for (; cut < (size_t)r ; cut++)
  {
    if (at_line_start && buf[cut] == 0x16 && !a->declined) break ;
    at_line_start = buf[cut] == '\n' ;
  }
  if (cut < (size_t)r)
  {
    a->client_tls = 1 ;
    a->client_tls_ms = check_ms(a->r) ;
    check_trace(a->r, "client began TLS at offset %zu: its bytes are left for the engine", a->cbase + a->cin.len + cut) ;
  }
  if (!cut) return ;
  r = recv(0, buf, cut, MSG_DONTWAIT) ;
  if (r <= 0) return ;
  if (!stralloc_catb(&a->cin, buf, (size_t)r)) strerr_diefsys(UST_EXIT_SYS, "stralloc_catb") ;
  check_trace(a->r, "client>check %zd bytes", r) ;
}

static void prog_read (check_app *a)
{
  char buf[65536] ;
  ssize_t r = recv(a->net, buf, sizeof buf, MSG_DONTWAIT) ;
  if (r < 0)
  {
    if (errno == EINTR || errno == EAGAIN) return ;
    if (errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "recv from prog") ;
    r = 0 ;
  }
  if (!r) { a->prog_eof = 1 ; check_trace(a->r, "prog EOF on its network descriptors") ; return ; }
  if (!stralloc_catb(&a->pout, buf, (size_t)r)) strerr_diefsys(UST_EXIT_SYS, "stralloc_catb") ;
  check_trace(a->r, "prog>check %zd bytes%s", r, a->client_tls && !a->declined ? " (held: the client is in TLS)" : "") ;
}

static void sendsome (check_app *a, int fd, stralloc *sa, size_t base, size_t *done, char const *what)
{
  ssize_t r = send(fd, sa->s + (*done - base), sa->len - (*done - base), MSG_DONTWAIT | MSG_NOSIGNAL) ;
  if (r < 0)
  {
    if (errno == EINTR || errno == EAGAIN) return ;
    if (errno != EPIPE && errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "send to ", what) ;
    /* the peer is gone: what is left will never be read */
    *done = base + sa->len ;
    return ;
  }
  *done += (size_t)r ;
  check_trace(a->r, "check>%s %zd bytes", what, r) ;
}

/* After a decline the logs are no longer needed: keep them bounded. */
static void trim (stralloc *sa, size_t *base, size_t done)
{
  if (done == *base + sa->len && sa->len > CHECK_LOG_MAX / 2) { *base += sa->len ; sa->len = 0 ; }
}

static int read_command (check_app *a)
{
  char c ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(4 * sizeof(int))] ; } anc ;
  struct iovec v = { .iov_base = &c, .iov_len = 1 } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = anc.buf, .msg_controllen = sizeof anc.buf } ;
  ssize_t r = recvmsg(a->ctl, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) ;
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return -1 ;
  if (r < 0 && errno != ECONNRESET) strerr_diefsys(UST_EXIT_SYS, "read from the control socket") ;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m) ; r > 0 && h ; h = CMSG_NXTHDR(&m, h))
  {
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS)
    {
      struct ucred u ;
      memcpy(&u, CMSG_DATA(h), sizeof u) ;
      if (u.pid > 0) a->cmdpid = u.pid ;
    }
    else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
    {
      unsigned int n = (unsigned int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int)) ;
      for (unsigned int i = 0 ; i < n ; i++)
      {
        int fd ;
        memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd) ;
        close(fd) ;
      }
    }
  }
  if (r <= 0) return 0 ;
  a->command = c ;
  return 1 ;
}

int check_app_relay (check_app *a)
{
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0, ic = 4, io = 4, in = 4, ictl = 4 ;
    size_t ctotal = a->cbase + a->cin.len, ptotal = a->pbase + a->pout.len ;
    tain deadline ;
    int r ;
    if (a->declined) { trim(&a->cin, &a->cbase, a->c2p) ; trim(&a->pout, &a->pbase, a->p2c) ; }
    if (a->client_eof && a->c2p == ctotal && !a->net_shut) { shutdown(a->net, SHUT_WR) ; a->net_shut = 1 ; }
    if (a->prog_eof && a->p2c == ptotal && !a->client_shut && !(a->client_tls && !a->declined)) { shutdown(1, SHUT_WR) ; a->client_shut = 1 ; }
    if (a->client_eof && a->prog_eof && a->c2p == ctotal && (a->p2c == ptotal || (a->client_tls && !a->declined))) return 2 ;
    if (!a->client_eof && !(a->client_tls && !a->declined) && (a->declined || a->cin.len < CHECK_LOG_MAX))
      { ic = n ; x[n].fd = 0 ; x[n++].events = IOPAUSE_READ ; }
    if (a->p2c < ptotal && !(a->client_tls && !a->declined)) { io = n ; x[n].fd = 1 ; x[n++].events = IOPAUSE_WRITE ; }
    if (!a->prog_eof || a->c2p < ctotal)
    {
      in = n ; x[n].fd = a->net ;
      x[n++].events = (a->prog_eof ? 0 : IOPAUSE_READ) | (a->c2p < ctotal ? IOPAUSE_WRITE : 0) ;
    }
    if (!a->declined && a->ctl >= 0) { ictl = n ; x[n].fd = a->ctl ; x[n++].events = IOPAUSE_READ ; }
    if (a->client_tls && !a->declined)
    {
      tain span ;
      tain_from_millisecs(&span, (int)(a->client_tls_ms + a->o->bound_ms)) ;
      tain_add(&deadline, &a->r->start, &span) ;
    }
    else tain_add_g(&deadline, &tain_infinite_relative) ;
    r = iopause_g(x, n, &deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; strerr_diefsys(UST_EXIT_SYS, "iopause") ; }
    if (!r)
    {
      if (a->client_tls && !a->declined) return 3 ;
      continue ;
    }
    if (ictl < n && x[ictl].revents)
    {
      int c = read_command(a) ;
      if (c > 0) return 1 ;
      if (!c)
      {
        a->declined = 1 ;
        close(a->ctl) ; a->ctl = -1 ;
        /* our copies must not keep prog's side open now */
        close(a->netapp) ; a->netapp = -1 ;
        check_trace(a->r, "prog closed SSLCTLFD: TLS declined") ;
        return 0 ;
      }
    }
    if (ic < n && x[ic].revents) client_read(a) ;
    if (in < n && x[in].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT) && !a->prog_eof) prog_read(a) ;
    if (in < n && x[in].revents & (IOPAUSE_WRITE | IOPAUSE_EXCEPT) && a->c2p < a->cbase + a->cin.len)
    {
      sendsome(a, a->net, &a->cin, a->cbase, &a->c2p, "prog") ;
      scan_lines(a) ;
    }
    if (io < n && x[io].revents) sendsome(a, 1, &a->pout, a->pbase, &a->p2c, "client") ;
  }
}

static pid_t spawn_prog (check_app *a, char const *const *argv, int appctl, int appnet)
{
  wrapper w ;
  char vars[3][32] ;
  char const *extra[5] ;
  size_t n = 0 ;
  pid_t pid ;
  int fds[3] = { appctl, a->appr, a->appw } ;
  wrapper_defaults(&w, TLSCONF_SERVER) ;
  w.keep_tls_vars = a->o->keep_tls_vars ;
  wrapper_controller_vars(fds, vars, extra) ;
  extra[3] = 0 ;  /* the direct handoff is not offered: prog must use 'y' or 'Y' */
  while (a->envp[n]) n++ ;
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (pid) return pid ;
  {
    char const *env[n + 5] ;
    if (dup2(appnet, 0) < 0 || dup2(appnet, 1) < 0) strerr_diefsys(UST_EXIT_SYS, "dup2") ;
    if (uncoe(appctl) < 0 || uncoe(a->appr) < 0 || uncoe(a->appw) < 0) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
    if (wrapper_prog_env(&w, a->envp, extra, env, n + 5) < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
    if (strchr(argv[0], '/')) execve(argv[0], (char *const *)argv, (char *const *)env) ;
    else execvpe(argv[0], (char *const *)argv, (char *const *)env) ;
    strerr_diefsys(UST_EXIT_SYS, "exec ", argv[0]) ;
  }
}

static void not_observed (check_app *a, char const *why)
{
  static char const *const rules[] = { "nonblock", "read-past", "unread", "cleartext-after", "after-handoff", "eof-wait", "fds", "env", 0 } ;
  for (char const *const *r = rules ; *r ; r++) check_rule(a->r, CHECK_WARN, *r, "not observed: %s", why) ;
}

static void wait_prog (check_app *a)
{
  int wstat ;
  while (waitpid(a->prog, &wstat, 0) < 0 && errno == EINTR) ;
}

int check_app_main (check_options const *o, char const *const *argv, char const *const *envp)
{
  check_report r ;
  check_app a = { .o = o, .r = &r, .envp = envp, .ctl = -1, .cin = STRALLOC_ZERO, .pout = STRALLOC_ZERO } ;
  int toeng[2], fromeng[2], ctl[2], netp[2], type, one = 1 ;
  socklen_t tl = sizeof type ;
  if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || getsockopt(1, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
    strerr_dief(UST_EXIT_USAGE, "fds 0 and 1 must be the client's socket (run under tcpserver)") ;
  check_report_init(&r, o->verbosity, "application") ;
  if (pipecoe(toeng) < 0 || pipecoe(fromeng) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  if (ipc_pair_coe(ctl) < 0 || ipc_pair_coe(netp) < 0) strerr_diefsys(UST_EXIT_SYS, "socketpair") ;
  /* who sends the command: a proxy sends it from a child of prog */
  if (setsockopt(ctl[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) strerr_diefsys(UST_EXIT_SYS, "setsockopt SO_PASSCRED") ;
  a.ctl = ctl[0] ; a.net = netp[0] ; a.netapp = netp[1] ;
  a.appr = fromeng[0] ; a.appw = toeng[1] ; a.engr = toeng[0] ; a.engw = fromeng[1] ;
  a.appfd[0] = ctl[1] ; a.appfd[1] = fromeng[0] ; a.appfd[2] = toeng[1] ;
  a.prog = spawn_prog(&a, argv, ctl[1], netp[1]) ;
  a.cmdpid = a.prog ;
  close(ctl[1]) ;
  check_trace(&r, "prog started: pid %d, SSLCTLFD=%d SSLREADFD=%d SSLWRITEFD=%d", (int)a.prog, a.appfd[0], a.appfd[1], a.appfd[2]) ;
  switch (check_app_relay(&a))
  {
    case 1 :
      check_app_handoff(&a) ;
      break ;
    case 0 :
    {
      unsigned long at = check_ms(&r) ;
      size_t cat = a.cbase + a.cin.len, pat = a.pbase + a.pout.len ;
      int e = check_app_relay(&a) ;
      check_rule(&r, e == 3 ? CHECK_FAIL : CHECK_PASS, "decline", "prog closed SSLCTLFD at +%lums after %zu client bytes and %zu of its own, then went on in cleartext: %zu and %zu more%s",
        at, cat, pat, a.cbase + a.cin.len - cat, a.pbase + a.pout.len - pat, e == 3 ? "; but the client had begun TLS" : "") ;
      not_observed(&a, "prog declined TLS") ;
      break ;
    }
    case 2 :
      check_rule(&r, CHECK_PASS, "decline", "the session ended with no command (%zu client bytes, %zu of prog's)", a.cbase + a.cin.len, a.pbase + a.pout.len) ;
      not_observed(&a, "no command was sent") ;
      break ;
    default :
      check_rule(&r, CHECK_FAIL, "command", "the client began TLS after %zu cleartext bytes (a STARTTLS reply: %s), but prog sent no command within %ums",
        a.cbase + a.cin.len, check_app_reply_end(&a) ? "yes" : "no", o->bound_ms) ;
      not_observed(&a, "no command was sent") ;
      break ;
  }
  if (a.command)
  {
    /* check_app_handoff wrote the report and ends the session */
    return r.nfail ? 1 : 0 ;
  }
  {
    int e = check_report_end(&r, o->output) ;
    close(a.net) ;
    if (a.ctl >= 0) close(a.ctl) ;
    close(0) ; close(1) ;
    wait_prog(&a) ;
    return e ;
  }
}

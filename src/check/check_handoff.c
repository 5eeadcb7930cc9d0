/* check_handoff.c: application mode from the command byte on: what prog's
   descriptors and queues say at that moment, our engine on the client's
   socket, the info block held open, and what prog does afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "check-app.h"
#include "exitcodes.h"
#include "tlsinfo.h"
#include "ucspitls.h"
#include "ust.h"

#define TICK_MS 10

static int pending (int fd)
{
  int n = 0 ;
  return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n ;
}

static int nonblocking (int fd)
{
  int f = fcntl(fd, F_GETFL) ;
  return f >= 0 && (f & O_NONBLOCK) ;
}

static char const *quoted (check_app const *a, stralloc *sa, stralloc const *log, size_t base, size_t from, size_t to)
{
  (void)a ;
  sa->len = 0 ;
  if (from < base) from = base ;
  if (to > base + log->len) to = base + log->len ;
  if (to > from) check_quote(sa, log->s + (from - base), to - from, 120) ;
  if (!stralloc_0(sa)) strerr_diefsys(UST_EXIT_SYS, "stralloc_0") ;
  return sa->s ;
}

static void check_fds_env (check_app *a)
{
  int expected[6] = { 0, 1, 2, a->appfd[0], a->appfd[1], a->appfd[2] } ;
  stralloc s = STRALLOC_ZERO ;
  unsigned int count ;
  if (check_proc_extra_fds(a->cmdpid, a->prog, expected, 6, &s, &count) < 0)
    check_rule(a->r, CHECK_WARN, "fds", "not observed: /proc/%d/fd: %s", (int)a->cmdpid, strerror(errno)) ;
  else if (count)
  {
    if (!stralloc_0(&s)) strerr_diefsys(UST_EXIT_SYS, "stralloc_0") ;
    check_rule(a->r, CHECK_WARN, "fds", "pid %d held %u descriptor(s) beyond 0, 1, 2 and the three UCSPI-TLS ones, not shared with its own processes:%s", (int)a->cmdpid, count, s.s) ;
  }
  else check_rule(a->r, CHECK_PASS, "fds", "pid %d held only 0, 1, 2, the three UCSPI-TLS descriptors and pipes or sockets to its own processes", (int)a->cmdpid) ;
  s.len = 0 ;
  {
    pid_t pids[2] = { a->cmdpid, a->prog } ;
    unsigned int total = 0 ;
    for (unsigned int i = 0 ; i < (a->prog == a->cmdpid ? 1U : 2U) ; i++)
    {
      stralloc one = STRALLOC_ZERO ;
      if (check_proc_tls_env(pids[i], &one, &count) < 0) continue ;
      if (count)
      {
        char head[32] ;
        int n = snprintf(head, sizeof head, " pid %d:", (int)pids[i]) ;
        if (!stralloc_catb(&s, head, (size_t)n) || !stralloc_catb(&s, " ", 1) || !stralloc_catb(&s, one.s, one.len)) strerr_diefsys(UST_EXIT_SYS, "stralloc") ;
      }
      total += count ;
      stralloc_free(&one) ;
    }
    if (!stralloc_0(&s)) strerr_diefsys(UST_EXIT_SYS, "stralloc_0") ;
    if (total) check_rule(a->r, CHECK_WARN, "env", "TLS configuration variables visible to prog (%s):%s", a->o->keep_tls_vars ? "given by -Z" : "set by prog itself", s.s) ;
    else check_rule(a->r, CHECK_PASS, "env", "no TLS configuration variable in prog's environment (%s)", a->o->keep_tls_vars ? "-Z gave them: prog removed them" : "ucspitls-check strips them as ucspitlsd does; -Z to see whether prog does") ;
  }
  stralloc_free(&s) ;
}

/* Writes prog's output up to limit to the client, before the engine takes the socket. */
static void flush_client (check_app *a, size_t limit)
{
  unsigned long end = check_ms(a->r) + a->o->bound_ms ;
  while (a->p2c < limit && check_ms(a->r) < end)
  {
    struct pollfd p = { .fd = 1, .events = POLLOUT } ;
    ssize_t r ;
    if (poll(&p, 1, TICK_MS) <= 0) continue ;
    r = send(1, a->pout.s + (a->p2c - a->pbase), limit - a->p2c, MSG_DONTWAIT | MSG_NOSIGNAL) ;
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue ;
    if (r <= 0) return ;
    a->p2c += (size_t)r ;
    check_trace(a->r, "check>client %zd bytes", r) ;
  }
}

static pid_t spawn_engine (check_app *a, int notif)
{
  char const *argv[16] ;
  char path[4096], k[UINT_FMT], v[UINT_FMT], d[UINT_FMT], fr[UINT_FMT], fw[UINT_FMT] ;
  unsigned int n = 0 ;
  pid_t pid ;
  if (ust_engine_path("tlsd-io", path, sizeof path) < 0) strerr_dief(UST_EXIT_SYS, "engine path too long") ;
  k[uint_fmt(k, a->o->handshake_ms)] = 0 ;
  v[uint_fmt(v, a->o->verbosity)] = 0 ;
  argv[n++] = "tlsd-io" ;
  argv[n++] = "-K" ; argv[n++] = k ;
  argv[n++] = "-v" ; argv[n++] = v ;
  if (notif >= 0) { d[uint_fmt(d, (unsigned int)notif)] = 0 ; argv[n++] = "-d" ; argv[n++] = d ; }
  fr[uint_fmt(fr, (unsigned int)a->engr)] = 0 ;
  fw[uint_fmt(fw, (unsigned int)a->engw)] = 0 ;
  argv[n++] = "--" ; argv[n++] = fr ; argv[n++] = fw ; argv[n] = 0 ;
  pid = fork() ;
  if (pid < 0) strerr_diefsys(UST_EXIT_SYS, "fork") ;
  if (pid) return pid ;
  /* as a controller does: whatever prog did, the engine gets a blocking socket */
  if (ucspitls_fd_block(0) < 0 || ucspitls_fd_block(1) < 0) strerr_diefsys(UST_EXIT_SYS, "clear O_NONBLOCK") ;
  if (uncoe(a->engr) < 0 || uncoe(a->engw) < 0 || (notif >= 0 && uncoe(notif) < 0)) strerr_diefsys(UST_EXIT_SYS, "fcntl") ;
  execve(path, (char *const *)argv, (char *const *)a->envp) ;
  strerr_diefsys(UST_EXIT_SYS, "exec ", path) ;
}

/* The engine's block, reshaped per -b, in buf; returns its length, 0 if the handshake failed. */
static size_t read_block (check_app *a, int notif, char *buf, size_t max)
{
  size_t n = 0 ;
  unsigned long end = check_ms(a->r) + a->o->handshake_ms + a->o->bound_ms ;
  long done = 0 ;
  while (!done && check_ms(a->r) < end)
  {
    struct pollfd p[2] = { { .fd = notif, .events = POLLIN }, { .fd = a->net, .events = POLLIN } } ;
    ssize_t r ;
    if (poll(p, 2, TICK_MS * 10) <= 0) continue ;
    if (p[1].revents)
    {
      /* prog writing (or closing) meanwhile is for the watch loop: just keep it flowing */
      char junk[4096] ;
      r = recv(a->net, junk, sizeof junk, MSG_DONTWAIT | MSG_PEEK) ;
      if (r <= 0) p[1].revents = 0 ;
    }
    if (!p[0].revents) continue ;
    r = read(notif, buf + n, max - n) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r <= 0) return 0 ;
    n += (size_t)r ;
    done = tlsinfo_block_complete(buf, n) ;
    if (done < 0 || (!done && n >= max)) return 0 ;
  }
  if (done <= 0) return 0 ;
  n = (size_t)done ;
  check_trace(a->r, "the engine's info block: %zu bytes", n) ;
  if (a->o->block == CHECK_BLOCK_BARE)
  {
    static char const bare[] = "SSL_PEER_CERT_HASH\0SSL_PEER_CERT_SUBJECT\0" ;
    if (n - 1 + sizeof bare > max) return 0 ;
    memcpy(buf + n - 1, bare, sizeof bare) ;  /* sizeof includes the final \0: the terminator */
    n += sizeof bare - 1 ;
  }
  else if (a->o->block == CHECK_BLOCK_MAX && n + 32 <= TLSINFO_BLOCK_MAX && TLSINFO_BLOCK_MAX <= max)
  {
    static char const name[] = "X_UCSPITLS_CHECK_PAD=" ;
    size_t pad = TLSINFO_BLOCK_MAX - n - (sizeof name - 1) - 1 ;  /* value, then its \0; the terminator stays */
    memcpy(buf + n - 1, name, sizeof name - 1) ;
    memset(buf + n - 1 + sizeof name - 1, 'p', pad) ;
    buf[TLSINFO_BLOCK_MAX - 2] = 0 ;
    buf[TLSINFO_BLOCK_MAX - 1] = 0 ;
    n = TLSINFO_BLOCK_MAX ;
  }
  return n ;
}

typedef struct watch_s {
  size_t post ;          /* bytes prog wrote to the network after the command */
  stralloc postlog ;
  long net_closed_ms ;   /* when prog closed its network side, -1 not yet */
  long ctl_closed_ms ;   /* when prog closed SSLCTLFD (after the block), -1 not yet */
  int pend_max ;         /* the most bytes seen waiting on SSLREADFD */
  long pend_since ;      /* since when bytes have waited unread */
  long consumed_ms ;     /* when prog was first seen reading SSLREADFD, -1 not yet */
  int last ;
} watch ;

/* One step of watching prog's side: its network writes, its SSLCTLFD, its SSLREADFD queue. */
static void watch_step (check_app *a, watch *w, int hold, int timeout)
{
  struct pollfd p[2] = { { .fd = w->net_closed_ms < 0 ? a->net : -1, .events = POLLIN }, { .fd = a->ctl, .events = POLLIN } } ;
  long now ;
  if (poll(p, 2, timeout) < 0 && errno != EINTR) strerr_diefsys(UST_EXIT_SYS, "poll") ;
  now = (long)check_ms(a->r) ;
  if (p[0].revents)
  {
    char buf[65536] ;
    ssize_t r = recv(a->net, buf, sizeof buf, MSG_DONTWAIT) ;
    if (r > 0)
    {
      if (w->postlog.len < 120 && !stralloc_catb(&w->postlog, buf, (size_t)r)) strerr_diefsys(UST_EXIT_SYS, "stralloc") ;
      w->post += (size_t)r ;
      check_trace(a->r, "prog>check %zd bytes after the command (dropped)", r) ;
    }
    else if (!r || (errno != EAGAIN && errno != EINTR))
    {
      w->net_closed_ms = now ;
      check_trace(a->r, "prog closed its network descriptors") ;
    }
  }
  if (a->ctl >= 0 && p[1].revents)
  {
    char c ;
    ssize_t r = recv(a->ctl, &c, 1, MSG_DONTWAIT) ;
    if (r == 0 || (r < 0 && errno == ECONNRESET))
    {
      if (w->ctl_closed_ms < 0) w->ctl_closed_ms = now ;
      check_trace(a->r, "prog closed SSLCTLFD") ;
      close(a->ctl) ; a->ctl = -1 ;
    }
    else if (r > 0) check_trace(a->r, "prog wrote on SSLCTLFD after its command (ignored)") ;
  }
  if (hold && a->engw >= 0)
  {
    int q = pending(a->engw) ;
    if (q >= 0)
    {
      if (q > w->pend_max) w->pend_max = q ;
      if (q > 0 && w->last == 0) w->pend_since = now ;
      if (q < w->last && w->consumed_ms < 0)
      {
        w->consumed_ms = now ;
        check_trace(a->r, "prog read SSLREADFD (%d bytes left of %d)", q, w->last) ;
      }
      w->last = q ;
    }
  }
}

static void report_command (check_app *a)
{
  stralloc q = STRALLOC_ZERO ;
  size_t ctotal = a->cbase + a->cin.len ;
  int inq = pending(a->netapp) ;
  size_t consumed = a->c2p - (inq > 0 ? (size_t)inq : 0) ;
  unsigned int flags = 0 ;
  char target[256] ;
  char self[64] ;
  struct stat st ;
  int nb = nonblocking(a->netapp) ;

  /* nonblock: the flag of the open file behind prog's fds 0 and 1 */
  self[0] = 0 ;
  if (fstat(a->netapp, &st) == 0) snprintf(self, sizeof self, "socket:[%lu]", (unsigned long)st.st_ino) ;
  if (check_proc_fdtarget(a->cmdpid, 0, target, sizeof target) == 0 && !strcmp(target, self) && check_proc_fdflags(a->cmdpid, 0, &flags) == 0)
    nb = nb || (flags & O_NONBLOCK) ;
  check_rule(a->r, nb ? CHECK_FAIL : CHECK_PASS, "nonblock", "O_NONBLOCK %s on prog's network socket (the open file behind its fds 0 and 1%s) when pid %d sent '%c'%s; SSLREADFD %s, SSLWRITEFD %s",
    nb ? "was set" : "was clear", self[0] && strcmp(target, self) ? "; pid's fd 0 is elsewhere" : "", (int)a->cmdpid, a->command,
    nb ? ": an engine given this socket inherits it (libtls engines fail in most sessions)" : "",
    nonblocking(a->appr) ? "non-blocking" : "blocking", nonblocking(a->appw) ? "non-blocking" : "blocking") ;

  /* read-past and unread: what prog had consumed of the client's bytes */
  if (inq < 0) check_rule(a->r, CHECK_WARN, "read-past", "not observed: FIONREAD on prog's socket: %s", strerror(errno)) ;
  else if (!a->stls) check_rule(a->r, CHECK_WARN, "read-past", "not observed: no STARTTLS or STLS command line among the %zu client bytes (prog had read %zu)", ctotal, consumed) ;
  else if (consumed > a->stls_end)
    check_rule(a->r, CHECK_FAIL, "read-past", "prog had read %zu bytes past the end of its STARTTLS line (client line %u, ending at offset %zu) when it sent '%c': \"%s\" (command injection: these cleartext bytes could be taken as sent inside TLS)",
      consumed - a->stls_end, a->stls_lineno, a->stls_end, a->command, quoted(a, &q, &a->cin, a->cbase, a->stls_end, consumed)) ;
  else if (consumed < a->stls_end)
    check_rule(a->r, CHECK_WARN, "read-past", "prog sent '%c' having read %zu bytes, before the end of its STARTTLS line (client line %u, offset %zu)", a->command, consumed, a->stls_lineno, a->stls_end) ;
  else check_rule(a->r, CHECK_PASS, "read-past", "prog had read exactly through its STARTTLS line (client line %u, %zu bytes) and nothing after it", a->stls_lineno, a->stls_end) ;
  if (inq < 0) check_rule(a->r, CHECK_WARN, "unread", "not observed: FIONREAD on prog's socket failed") ;
  else if (ctotal > consumed)
    check_rule(a->r, CHECK_WARN, "unread", "%zu client bytes were still unread by prog when it sent '%c': \"%s\" (dropped here; under a real controller they reach the engine as garbage, or prog reads them later)",
      ctotal - consumed, a->command, quoted(a, &q, &a->cin, a->cbase, consumed, ctotal)) ;
  else check_rule(a->r, CHECK_PASS, "unread", "no client byte was left unread when prog sent '%c'", a->command) ;
  stralloc_free(&q) ;
}

void check_app_handoff (check_app *a)
{
  watch w = { .postlog = STRALLOC_ZERO, .net_closed_ms = -1, .ctl_closed_ms = -1, .pend_since = -1, .consumed_ms = -1 } ;
  stralloc q = STRALLOC_ZERO ;
  char block[TLSINFO_BLOCK_MAX + 64] ;
  size_t blen = 0, reply_end, ptotal ;
  long cmd_ms = (long)check_ms(a->r), fwd_ms = -1, hold_end_ms ;
  int notif[2] = { -1, -1 } ;
  pid_t engine ;
  int e ;

  check_trace(a->r, "command byte '%c' from pid %d", a->command, (int)a->cmdpid) ;
  /* what prog wrote before the command may still be in the socket: it is before */
  for (;;)
  {
    size_t before = a->pout.len ;
    struct pollfd p = { .fd = a->net, .events = POLLIN } ;
    if (poll(&p, 1, 0) <= 0) break ;
    if (recv(a->net, block, 0, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN) break ;
    {
      char buf[65536] ;
      ssize_t r = recv(a->net, buf, sizeof buf, MSG_DONTWAIT) ;
      if (r <= 0) break ;
      if (!stralloc_catb(&a->pout, buf, (size_t)r)) strerr_diefsys(UST_EXIT_SYS, "stralloc") ;
    }
    if (a->pout.len == before) break ;
  }
  if (a->command != 'y' && a->command != 'Y')
  {
    check_rule(a->r, CHECK_FAIL, "command", "invalid command byte 0x%02x on SSLCTLFD%s: a controller refuses it and starts no TLS", (unsigned char)a->command,
      a->command == 'H' ? " ('H', the direct handoff, was not offered: SSLHANDOFF is unset)" : "") ;
    e = check_report_end(a->r, a->o->output) ;
    close(a->ctl) ; close(a->net) ; close(a->netapp) ; close(0) ; close(1) ;
    while (waitpid(a->prog, 0, 0) < 0 && errno == EINTR) ;
    _exit(e) ;
  }
  check_rule(a->r, CHECK_PASS, "command", "pid %d sent '%c' on SSLCTLFD after %zu client bytes and %zu of its own", (int)a->cmdpid, a->command, a->cbase + a->cin.len, a->pbase + a->pout.len) ;
  report_command(a) ;
  check_fds_env(a) ;
  close(a->netapp) ; a->netapp = -1 ;
  close(a->appr) ; close(a->appw) ;
  ptotal = a->pbase + a->pout.len ;
  reply_end = check_app_reply_end(a) ;
  flush_client(a, reply_end ? reply_end : ptotal) ;

  if (a->command == 'Y' && pipecoe(notif) < 0) strerr_diefsys(UST_EXIT_SYS, "pipe") ;
  engine = spawn_engine(a, notif[1]) ;
  check_trace(a->r, "engine started: pid %d", (int)engine) ;
  close(a->engr) ; a->engr = -1 ;
  if (notif[1] >= 0) close(notif[1]) ;
  {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC) ;
    /* the engine alone holds the client's socket now */
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) strerr_diefsys(UST_EXIT_SYS, "/dev/null") ;
    close(null) ;
  }
  if (a->command == 'y') { close(a->ctl) ; a->ctl = -1 ; }
  else
  {
    blen = read_block(a, notif[0], block, sizeof block) ;
    close(notif[0]) ;
    if (blen)
    {
      size_t done = 0 ;
      while (done < blen)
      {
        ssize_t r = send(a->ctl, block + done, blen - done, MSG_NOSIGNAL) ;
        if (r < 0 && errno == EINTR) continue ;
        if (r <= 0) break ;
        done += (size_t)r ;
      }
      fwd_ms = (long)check_ms(a->r) ;
      check_trace(a->r, "info block of %zu bytes given to prog; SSLCTLFD stays open", blen) ;
    }
    else { close(a->ctl) ; a->ctl = -1 ; check_trace(a->r, "no info block from the engine: the handshake failed") ; }
  }

  /* the hold: SSLCTLFD open after the block, as sslserver keeps it */
  hold_end_ms = (fwd_ms >= 0 ? fwd_ms : cmd_ms) + (long)a->o->bound_ms ;
  while ((long)check_ms(a->r) < hold_end_ms)
  {
    watch_step(a, &w, fwd_ms >= 0, TICK_MS) ;
    if (fwd_ms < 0 && w.net_closed_ms >= 0) break ;
    if (fwd_ms >= 0 && (w.ctl_closed_ms >= 0 || w.consumed_ms >= 0) && w.net_closed_ms >= 0) break ;
  }
  if (fwd_ms >= 0)
  {
    long after = -1 ;
    int waited = w.consumed_ms < 0 && w.ctl_closed_ms < 0 && w.pend_max > 0 ;
    if (a->ctl >= 0) { close(a->ctl) ; a->ctl = -1 ; check_trace(a->r, "SSLCTLFD closed by us") ; }
    if (waited)
    {
      /* does prog go on once it has its EOF? */
      long closed = (long)check_ms(a->r) ;
      while ((long)check_ms(a->r) < closed + (long)a->o->bound_ms && w.consumed_ms < 0) watch_step(a, &w, 1, TICK_MS) ;
      if (w.consumed_ms >= 0) after = w.consumed_ms - closed ;
      check_rule(a->r, CHECK_FAIL, "eof-wait", "%d bytes from the client waited on SSLREADFD for %ldms after the info block while SSLCTLFD stayed open, and prog neither read them nor closed SSLCTLFD; %s (it reads the block until EOF: a deadlock under controllers that keep the control socket open, as sslserver does)",
        w.pend_max, hold_end_ms - (w.pend_since >= 0 ? w.pend_since : fwd_ms), after >= 0 ? "it went on right after we closed SSLCTLFD" : "it did not go on after we closed SSLCTLFD either") ;
      if (after >= 0) check_trace(a->r, "prog went on %ldms after SSLCTLFD was closed", after) ;
    }
    else if (w.ctl_closed_ms >= 0)
      check_rule(a->r, CHECK_PASS, "eof-wait", "prog closed SSLCTLFD %ldms after the %zu-byte block while ours stayed open: it stopped at the terminator", w.ctl_closed_ms - fwd_ms, blen) ;
    else if (w.consumed_ms >= 0)
      check_rule(a->r, CHECK_PASS, "eof-wait", "prog read SSLREADFD %ldms after the %zu-byte block with SSLCTLFD still open (it never closed SSLCTLFD)", w.consumed_ms - fwd_ms, blen) ;
    else check_rule(a->r, CHECK_WARN, "eof-wait", "not observed: during %ums after the block the client sent nothing inside TLS and prog kept SSLCTLFD open", a->o->bound_ms) ;
    if (a->o->block != CHECK_BLOCK_ENGINE)
    {
      int went_on = w.ctl_closed_ms >= 0 || w.consumed_ms >= 0 ;
      check_rule(a->r, went_on ? CHECK_PASS : CHECK_WARN, "infoblock", "block %s (%zu bytes): %s", a->o->block == CHECK_BLOCK_BARE ? "with bare NAME entries" : "at the size limit",
        blen, went_on ? "prog took it and went on" : "not observed: prog gave no sign of going on") ;
    }
  }
  else if (a->command == 'Y') check_rule(a->r, CHECK_WARN, "eof-wait", "not observed: the handshake failed (no info block)") ;
  else check_rule(a->r, CHECK_WARN, "eof-wait", "not observed: prog sent 'y' (no info block)") ;
  if (a->engw >= 0) { close(a->engw) ; a->engw = -1 ; }

  /* after-handoff: prog's cleartext side must be let go */
  while (w.net_closed_ms < 0 && (long)check_ms(a->r) < (fwd_ms >= 0 ? fwd_ms : cmd_ms) + (long)a->o->bound_ms) watch_step(a, &w, 0, TICK_MS) ;
  if (w.net_closed_ms >= 0) check_rule(a->r, CHECK_PASS, "after-handoff", "prog closed its network descriptors %ldms after the command", w.net_closed_ms - cmd_ms) ;
  else check_rule(a->r, CHECK_WARN, "after-handoff", "prog still held its network descriptors %ums after the %s (under a real controller: the client's socket, beside the engine)", a->o->bound_ms, fwd_ms >= 0 ? "info block" : "command") ;

  /* cleartext-after: nothing after the success reply, nothing after the command */
  if (a->stls && reply_end && ptotal > reply_end)
    check_rule(a->r, CHECK_FAIL, "cleartext-after", "prog wrote %zu bytes after its STARTTLS reply \"%s\" and before the command: \"%s\"",
      ptotal - reply_end, quoted(a, &q, &a->pout, a->pbase, a->stls_out, reply_end), quoted(a, &w.postlog, &a->pout, a->pbase, reply_end, ptotal)) ;
  else if (w.post)
  {
    stralloc p = STRALLOC_ZERO ;
    check_quote(&p, w.postlog.s, w.postlog.len, 120) ;
    if (!stralloc_0(&p)) strerr_diefsys(UST_EXIT_SYS, "stralloc") ;
    check_rule(a->r, CHECK_FAIL, "cleartext-after", "prog wrote %zu cleartext bytes to the network after the command: \"%s\"%s", w.post, p.s,
      a->stls && !reply_end ? " (its STARTTLS reply was not complete before the command)" : "") ;
    stralloc_free(&p) ;
  }
  else if (a->stls && reply_end)
    check_rule(a->r, CHECK_PASS, "cleartext-after", "the reply \"%s\" was prog's last cleartext; nothing written after the command", quoted(a, &q, &a->pout, a->pbase, a->stls_out, reply_end)) ;
  else check_rule(a->r, CHECK_PASS, "cleartext-after", "nothing written after the command (no STARTTLS reply identified: %s)", a->stls ? "incomplete" : "no STARTTLS line") ;
  if (w.post) check_trace(a->r, "%zu bytes after the command", w.post) ;
  stralloc_free(&q) ;

  e = check_report_end(a->r, a->o->output) ;
  close(a->net) ;
  if (a->ctl >= 0) close(a->ctl) ;
  /* the session: the engine ends it; prog then gets its EOF and a grace */
  {
    int progfd = ust_pidfd_open(a->prog) ;
    int left = 2 ;
    while (left)
    {
      int wstat ;
      pid_t pid = waitpid(-1, &wstat, 0) ;
      if (pid < 0) { if (errno == EINTR) continue ; break ; }
      if (pid == a->prog || pid == engine) left-- ;
      if (pid == engine && left && progfd >= 0)
      {
        ust_end_process(progfd, a->prog, UST_END_GRACE_MS, UST_END_KILL_MS) ;
      }
    }
    if (progfd >= 0) close(progfd) ;
  }
  _exit(e) ;
}

/* ustbench.c: the benchmark client (and the machine-limit probes) of `make bench`.
   Written against OpenSSL directly so that the client pins the cipher
   (AES-128-GCM), disables session resumption and stays cheap enough not to
   be the bottleneck. Every figure goes to stdout as "key=value" lines.

   ustbench sessions HOST PORT N CONC starttls|tls|plain
       N SMTP sessions (greeting, EHLO, [STARTTLS, handshake, EHLO,] QUIT),
       CONC worker processes at once.
   ustbench bulk HOST PORT BYTES starttls|tls|plain
       one SMTP session sending a message of BYTES through DATA.
   ustbench prog BYTES
       the program under a client proxy (tcpclient ... ucspitlsc --
       smtpc-starttls -- ustbench prog BYTES): one SMTP session in cleartext
       on descriptors 6 (from the server) and 7 (to it), greeting, EHLO, a
       message of BYTES through DATA unless 0, QUIT; then it waits for its
       children (the proxy, the engine) and prints their CPU time too
       (cpu_NAME for each, children_cpu_seconds for all), and the whole
       session's time (session_seconds).
   ustbench idle HOST PORT N
       opens N STARTTLS sessions up to the EHLO after the handshake, prints
       "ready", holds them until stdin reaches EOF, then QUITs them all.
   ustbench pipe BYTES [PIPESIZE] / ustbench tcp BYTES
       throughput of a pipe (of PIPESIZE bytes, F_SETPIPE_SZ) / of loopback
       TCP between two processes.
   ustbench exec N PROG [ARG...]
       CPU time of fork, exec and exit of PROG (stdin, stdout, stderr /dev/null),
       N times: what each program of a session costs before it does anything.
   Bulk also prints the client's own CPU time (client_cpu_seconds). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define LINE_MAX_BENCH 4096
#define CHUNK (1 << 20)

typedef struct conn_s {
  int fd ;
  int wfd ;  /* fd, but for prog: 7 */
  SSL *ssl ;
  char buf[LINE_MAX_BENCH] ;
  size_t start, end ;
} conn ;

static SSL_CTX *ctx ;

/* modes starttls12 and starttls12-resume: TLS 1.2 at most (BearSSL's
   resumption is TLS 1.2 session ids); with -resume each worker offers the
   session of its previous connection, and fails unless the server resumed it. */
static int tls12_only, resume ;
static SSL_SESSION *saved ;
static unsigned int reused ;

static void die (char const *what)
{
  fprintf(stderr, "ustbench: fatal: %s: %s\n", what, errno ? strerror(errno) : "protocol error") ;
  ERR_print_errors_fp(stderr) ;
  exit(111) ;
}

static double now (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return ts.tv_sec + ts.tv_nsec / 1e9 ;
}

static void tls_setup (void)
{
  ctx = SSL_CTX_new(TLS_client_method()) ;
  if (!ctx) die("SSL_CTX_new") ;
  /* The same cipher whatever the server's backend: AES-128-GCM, ECDHE. */
  if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256")) die("set TLS 1.3 suites") ;
  if (!SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")) die("set TLS 1.2 suites") ;
  /* Every session pays a full handshake, as mail clients mostly do. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF) ;
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET) ;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, 0) ;
}

static int dial (char const *host, unsigned short port)
{
  struct sockaddr_in sa ;
  int one = 1 ;
  int fd = socket(AF_INET, SOCK_STREAM, 0) ;
  if (fd < 0) die("socket") ;
  memset(&sa, 0, sizeof sa) ;
  sa.sin_family = AF_INET ;
  sa.sin_port = htons(port) ;
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { errno = EINVAL ; die("address") ; }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect") ;
  /* The client is ours: it must not add Nagle delays of its own. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
  return fd ;
}

static void put (conn *c, char const *s, size_t len)
{
  while (len)
  {
    ssize_t w ;
    if (c->ssl)
    {
      int r = SSL_write(c->ssl, s, len > (1u << 30) ? 1 << 30 : (int)len) ;
      if (r <= 0) { errno = 0 ; die("SSL_write") ; }
      w = r ;
    }
    else
    {
      w = write(c->wfd, s, len) ;
      if (w < 0) { if (errno == EINTR) continue ; die("write") ; }
    }
    s += w ; len -= (size_t)w ;
  }
}

static void says (conn *c, char const *s) { put(c, s, strlen(s)) ; }

static int fill (conn *c)
{
  ssize_t r ;
  if (c->start) { memmove(c->buf, c->buf + c->start, c->end - c->start) ; c->end -= c->start ; c->start = 0 ; }
  if (c->end == sizeof c->buf) { errno = 0 ; die("reply line too long") ; }
  if (c->ssl) r = SSL_read(c->ssl, c->buf + c->end, (int)(sizeof c->buf - c->end)) ;
  else do r = read(c->fd, c->buf + c->end, sizeof c->buf - c->end) ; while (r < 0 && errno == EINTR) ;
  if (r <= 0) return 0 ;
  c->end += (size_t)r ;
  return 1 ;
}

/* Reads one whole reply (all its lines); dies unless its code starts with `want`. */
static void expect (conn *c, char want, char const *what)
{
  for (;;)
  {
    char *nl ;
    while (!(nl = memchr(c->buf + c->start, '\n', c->end - c->start)))
      if (!fill(c)) { errno = 0 ; die(what) ; }
    {
      char *line = c->buf + c->start ;
      size_t len = (size_t)(nl - line) + 1 ;
      c->start += len ;
      if (len < 4 || line[0] != want) { errno = 0 ; fprintf(stderr, "ustbench: got: %.*s", (int)len, line) ; die(what) ; }
      if (line[3] != '-') return ;
    }
  }
}

static void handshake (conn *c)
{
  c->ssl = SSL_new(ctx) ;
  if (!c->ssl) die("SSL_new") ;
  SSL_set_fd(c->ssl, c->fd) ;
  SSL_set_tlsext_host_name(c->ssl, "localhost") ;
  if (tls12_only && !SSL_set_max_proto_version(c->ssl, TLS1_2_VERSION)) die("set TLS 1.2") ;
  if (resume && saved && !SSL_set_session(c->ssl, saved)) die("SSL_set_session") ;
  if (SSL_connect(c->ssl) != 1) { errno = 0 ; die("TLS handshake") ; }
  if (resume)
  {
    if (saved) { reused += SSL_session_reused(c->ssl) == 1 ; SSL_SESSION_free(saved) ; }
    saved = SSL_get1_session(c->ssl) ;
  }
}

/* Connects and brings the session to an EHLO answered in the chosen mode. */
static void session_open (conn *c, char const *host, unsigned short port, char const *mode)
{
  c->fd = c->wfd = dial(host, port) ;
  c->ssl = 0 ;
  c->start = c->end = 0 ;
  if (!strcmp(mode, "tls")) handshake(c) ;
  expect(c, '2', "greeting") ;
  says(c, "EHLO bench.example\r\n") ;
  expect(c, '2', "EHLO") ;
  if (!strcmp(mode, "starttls"))
  {
    says(c, "STARTTLS\r\n") ;
    expect(c, '2', "STARTTLS") ;
    if (c->start != c->end) { errno = 0 ; die("bytes after the STARTTLS reply") ; }
    handshake(c) ;
    says(c, "EHLO bench.example\r\n") ;
    expect(c, '2', "EHLO after TLS") ;
  }
}

static void session_close (conn *c)
{
  says(c, "QUIT\r\n") ;
  expect(c, '2', "QUIT") ;
  if (c->ssl) { SSL_shutdown(c->ssl) ; SSL_free(c->ssl) ; c->ssl = 0 ; }
  close(c->fd) ;
}

static int cmd_sessions (char const *host, unsigned short port, unsigned int n, unsigned int conc, char const *mode)
{
  double t0 = now() ;
  if (!strncmp(mode, "starttls12", 10))
  {
    tls12_only = 1 ;
    resume = !strcmp(mode + 10, "-resume") ;
    mode = "starttls" ;
  }
  for (unsigned int w = 0 ; w < conc ; w++)
  {
    pid_t pid = fork() ;
    if (pid < 0) die("fork") ;
    if (!pid)
    {
      static conn c ;
      unsigned int k = 0 ;
      for (unsigned int i = w ; i < n ; i += conc, k++) { session_open(&c, host, port, mode) ; session_close(&c) ; }
      if (resume && k && reused != k - 1) { fprintf(stderr, "ustbench: fatal: %u of %u sessions resumed\n", reused, k - 1) ; _exit(1) ; }
      _exit(0) ;
    }
  }
  {
    int wstat, bad = 0 ;
    while (wait(&wstat) > 0) if (!WIFEXITED(wstat) || WEXITSTATUS(wstat)) bad = 1 ;
    if (bad) { errno = 0 ; die("a worker failed") ; }
  }
  {
    double t = now() - t0 ;
    printf("sessions=%u\nconcurrency=%u\nseconds=%.6f\nper_second=%.2f\n", n, conc, t, n / t) ;
  }
  return 0 ;
}

static double cpu_of (struct rusage const *ru)
{
  return ru->ru_utime.tv_sec + ru->ru_stime.tv_sec + (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6 ;
}

/* One message of `bytes` through DATA on an open session; prints its figures. */
static void send_message (conn *c, unsigned long long bytes)
{
  static char chunk[CHUNK] ;
  unsigned long long left = bytes ;
  double t0, c0 ;
  struct rusage ru ;
  /* 78-byte lines of letters + CRLF: never a leading dot, never a bare LF. */
  for (size_t i = 0 ; i < CHUNK ; i++) chunk[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : 'a' + i % 26 ;
  says(c, "MAIL FROM:<bench@example.org>\r\n") ;
  expect(c, '2', "MAIL") ;
  says(c, "RCPT TO:<sink@example.org>\r\n") ;
  expect(c, '2', "RCPT") ;
  says(c, "DATA\r\n") ;
  expect(c, '3', "DATA") ;
  t0 = now() ;
  getrusage(RUSAGE_SELF, &ru) ;
  c0 = cpu_of(&ru) ;
  while (left)
  {
    size_t n = left < CHUNK ? (size_t)left : CHUNK ;
    n -= n % 80 ;
    if (!n) break ;
    put(c, chunk, n) ;
    left -= n ;
  }
  says(c, ".\r\n") ;
  expect(c, '2', "end of data") ;
  {
    double t = now() - t0 ;
    getrusage(RUSAGE_SELF, &ru) ;
    printf("bytes=%llu\nseconds=%.6f\nmb_per_second=%.1f\nclient_cpu_seconds=%.6f\n",
      bytes - left, t, (bytes - left) / t / 1e6, cpu_of(&ru) - c0) ;
  }
}

static int cmd_bulk (char const *host, unsigned short port, unsigned long long bytes, char const *mode)
{
  static conn c ;
  session_open(&c, host, port, mode) ;
  send_message(&c, bytes) ;
  session_close(&c) ;
  return 0 ;
}

/* Under a client proxy: cleartext SMTP on 6 and 7, then the children's CPU. */
static int cmd_prog (unsigned long long bytes)
{
  static conn c ;
  struct rusage kids ;
  double t0 = now() ;
  int wstat, bad = 0 ;
  c.fd = 6 ; c.wfd = 7 ; c.ssl = 0 ; c.start = c.end = 0 ;
  expect(&c, '2', "greeting") ;
  says(&c, "EHLO bench.example\r\n") ;
  expect(&c, '2', "EHLO") ;
  if (bytes) send_message(&c, bytes) ;
  says(&c, "QUIT\r\n") ;
  expect(&c, '2', "QUIT") ;
  close(6) ; close(7) ;
  for (;;)
  {
    /* each child's name (its comm, still there while it is a zombie), then its CPU */
    siginfo_t si ;
    struct rusage ru ;
    char path[64], comm[32] = "?" ;
    FILE *f ;
    si.si_pid = 0 ;
    if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0 || !si.si_pid) break ;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)si.si_pid) ;
    if ((f = fopen(path, "r"))) { if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0 ; fclose(f) ; }
    if (wait4(si.si_pid, &wstat, 0, &ru) < 0) die("wait4") ;
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat)) bad = 1 ;
    printf("cpu_%s=%.6f\n", comm, cpu_of(&ru)) ;
  }
  if (bad) { errno = 0 ; die("the proxy or the engine failed") ; }
  getrusage(RUSAGE_CHILDREN, &kids) ;
  printf("children_cpu_seconds=%.6f\nsession_seconds=%.6f\n", cpu_of(&kids), now() - t0) ;
  return 0 ;
}

static int cmd_idle (char const *host, unsigned short port, unsigned int n)
{
  conn *v = calloc(n, sizeof *v) ;
  char ch ;
  if (!v) die("calloc") ;
  for (unsigned int i = 0 ; i < n ; i++) session_open(&v[i], host, port, "starttls") ;
  printf("ready\n") ;
  fflush(stdout) ;
  while (read(0, &ch, 1) > 0) ;
  for (unsigned int i = 0 ; i < n ; i++) session_close(&v[i]) ;
  return 0 ;
}

/* Moves `bytes` from one process to another over fds[1] -> fds[0]; prints MB/s. */
static int transfer (int rfd, int wfd, unsigned long long bytes, char const *what)
{
  static char buf[1 << 16] ;
  double t0 = now() ;
  pid_t pid = fork() ;
  if (pid < 0) die("fork") ;
  if (!pid)
  {
    unsigned long long left = bytes ;
    close(rfd) ;
    while (left)
    {
      ssize_t w = write(wfd, buf, left < sizeof buf ? left : sizeof buf) ;
      if (w < 0) { if (errno == EINTR) continue ; die("write") ; }
      left -= (unsigned long long)w ;
    }
    _exit(0) ;
  }
  close(wfd) ;
  {
    unsigned long long got = 0 ;
    ssize_t r ;
    while ((r = read(rfd, buf, sizeof buf)) > 0) got += (unsigned long long)r ;
    waitpid(pid, 0, 0) ;
    {
      double t = now() - t0 ;
      printf("what=%s\nbytes=%llu\nseconds=%.6f\nmb_per_second=%.1f\n", what, got, t, got / t / 1e6) ;
    }
  }
  return 0 ;
}

static int cmd_tcp (unsigned long long bytes)
{
  struct sockaddr_in sa ;
  socklen_t len = sizeof sa ;
  int l = socket(AF_INET, SOCK_STREAM, 0), w, r ;
  memset(&sa, 0, sizeof sa) ;
  sa.sin_family = AF_INET ;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK) ;
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0) die("listen") ;
  if (getsockname(l, (struct sockaddr *)&sa, &len) < 0) die("getsockname") ;
  w = socket(AF_INET, SOCK_STREAM, 0) ;
  if (w < 0 || connect(w, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect") ;
  r = accept(l, 0, 0) ;
  if (r < 0) die("accept") ;
  close(l) ;
  return transfer(r, w, bytes, "tcp") ;
}

static int cmd_pipe (unsigned long long bytes, int size)
{
  int p[2] ;
  if (pipe(p) < 0) die("pipe") ;
  if (size && fcntl(p[1], F_SETPIPE_SZ, size) < 0) die("F_SETPIPE_SZ") ;
  return transfer(p[0], p[1], bytes, "pipe") ;
}

static int cmd_exec (unsigned long n, char *const *argv)
{
  struct rusage self, kids ;
  int null = open("/dev/null", O_RDWR) ;
  if (null < 0) die("open /dev/null") ;
  for (unsigned long i = 0 ; i < n ; i++)
  {
    pid_t pid = fork() ;
    if (pid < 0) die("fork") ;
    if (!pid)
    {
      dup2(null, 0) ; dup2(null, 1) ; dup2(null, 2) ;
      execv(argv[0], argv) ;
      _exit(127) ;
    }
    if (waitpid(pid, 0, 0) < 0) die("waitpid") ;
  }
  getrusage(RUSAGE_SELF, &self) ;
  getrusage(RUSAGE_CHILDREN, &kids) ;
  printf("execs=%lu\nms_per_exec=%.3f\nms_per_fork_parent=%.3f\n", n, cpu_of(&kids) * 1e3 / n, cpu_of(&self) * 1e3 / n) ;
  return 0 ;
}

static void usage (void)
{
  fprintf(stderr, "usage: ustbench sessions HOST PORT N CONC starttls|tls|plain\n"
                  "       ustbench bulk HOST PORT BYTES starttls|tls|plain\n"
                  "       ustbench prog BYTES\n"
                  "       ustbench idle HOST PORT N\n"
                  "       ustbench pipe BYTES [PIPESIZE] | ustbench tcp BYTES\n"
                  "       ustbench exec N PROG [ARG...]\n") ;
  exit(100) ;
}

int main (int argc, char **argv)
{
  signal(SIGPIPE, SIG_IGN) ;
  if (argc < 3) usage() ;
  if (!strcmp(argv[1], "pipe")) return cmd_pipe(strtoull(argv[2], 0, 10), argc > 3 ? atoi(argv[3]) : 0) ;
  if (!strcmp(argv[1], "exec") && argc > 3) return cmd_exec(strtoul(argv[2], 0, 10), argv + 3) ;
  if (!strcmp(argv[1], "tcp")) return cmd_tcp(strtoull(argv[2], 0, 10)) ;
  if (!strcmp(argv[1], "prog")) return cmd_prog(strtoull(argv[2], 0, 10)) ;
  if (argc < 5) usage() ;
  tls_setup() ;
  {
    unsigned short port = (unsigned short)atoi(argv[3]) ;
    if (!strcmp(argv[1], "sessions") && argc == 7)
      return cmd_sessions(argv[2], port, (unsigned int)atoi(argv[4]), (unsigned int)atoi(argv[5]), argv[6]) ;
    if (!strcmp(argv[1], "bulk") && argc == 6)
      return cmd_bulk(argv[2], port, strtoull(argv[4], 0, 10), argv[5]) ;
    if (!strcmp(argv[1], "idle") && argc == 5)
      return cmd_idle(argv[2], port, (unsigned int)atoi(argv[4])) ;
  }
  usage() ;
  return 100 ;
}

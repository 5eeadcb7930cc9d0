/* ucspitls-client.c: the client side of ucspitls-app's line protocol, run
   under ucspitlsc (network on fds 6/7, as tcpclient gives them).

   ucspitls-client [ -t ms ] command...
   Prints the greeting, then sends each command as a line and prints the one
   reply line, as "< reply". "STARTTLS y" / "STARTTLS Y": after the server's
   "OK", starts TLS through libucspitls (Y: prints the client's own info block
   as "CLIENTINFO NAME=value" lines) and goes on inside TLS. Local directives:
     @DECLINE     ucspitls_decline, prints "DECLINED"
     @ENV NAME    prints "MYENV NAME=value" or "MYENV NAME unset"
     @FDS         prints this process's open descriptors, "MYFDS 0 1 ..."
     @EOF         half-closes (closes the write side), prints the rest until EOF
   Exits 0, or 98 when TLS could not be started (message on stderr), 111 on
   a system error, 1 when the server closed early. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "ucspitls.h"

extern char **environ ;

static int in = 6, out = 7 ;

static void die (int code, char const *what)
{
  fprintf(stderr, "ucspitls-client: %s: %s\n", what, strerror(errno)) ;
  exit(code) ;
}

static void put (char const *s, size_t len)
{
  while (len)
  {
    ssize_t w = write(out, s, len) ;
    if (w < 0)
    {
      struct pollfd p = { .fd = out, .events = POLLOUT } ;
      if (errno == EINTR) continue ;
      if (errno != EAGAIN) die(111, "write") ;
      poll(&p, 1, -1) ;
      continue ;
    }
    s += w ; len -= (size_t)w ;
  }
}

/* A line, byte by byte (what follows "OK" belongs to the engine). -1 at EOF. */
static ssize_t get_line (char *line, size_t max)
{
  size_t n = 0 ;
  while (n + 1 < max)
  {
    ssize_t r = read(in, line + n, 1) ;
    if (r < 0)
    {
      struct pollfd p = { .fd = in, .events = POLLIN } ;
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) { poll(&p, 1, -1) ; continue ; }
      if (errno == ECONNRESET) break ;
      die(111, "read") ;
    }
    if (!r) break ;
    if (line[n++] == '\n') break ;
  }
  line[n] = 0 ;
  if (!n) return -1 ;
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0 ;
  return (ssize_t)n ;
}

static void print_reply (void)
{
  char line[70000] ;
  if (get_line(line, sizeof(line)) < 0) { printf("< (EOF)\n") ; fflush(stdout) ; exit(1) ; }
  printf("< %s\n", line) ;
  fflush(stdout) ;
}

static void print_fds (void)
{
  DIR *d = opendir("/proc/self/fd") ;
  struct dirent *e ;
  int fds[256], n = 0 ;
  if (!d) die(111, "opendir") ;
  while ((e = readdir(d)) && n < 256)
    if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) fds[n++] = atoi(e->d_name) ;
  closedir(d) ;
  for (int i = 0 ; i < n ; i++)
    for (int j = i + 1 ; j < n ; j++)
      if (fds[j] < fds[i]) { int t = fds[i] ; fds[i] = fds[j] ; fds[j] = t ; }
  printf("MYFDS") ;
  for (int i = 0 ; i < n ; i++) printf(" %d", fds[i]) ;
  printf("\n") ;
}

int main (int argc, char **argv)
{
  ucspitls u = UCSPITLS_ZERO ;
  int have_u = ucspitls_from_env(&u, (char const *const *)environ) == 0 ;
  unsigned int timeout = 20000 ;
  int opt ;
  while ((opt = getopt(argc, argv, "t:")) != -1)
  {
    if (opt == 't') timeout = (unsigned int)strtoul(optarg, 0, 10) ;
    else { fprintf(stderr, "usage: ucspitls-client [ -t ms ] command...\n") ; return 100 ; }
  }
  if (!have_u) printf("CLIENT no UCSPI-TLS: %s\n", strerror(errno)) ;
  print_reply() ;
  for (int i = optind ; i < argc ; i++)
  {
    char const *c = argv[i] ;
    if (!strcmp(c, "@DECLINE")) { ucspitls_decline(&u) ; have_u = 0 ; printf("DECLINED\n") ; continue ; }
    if (!strncmp(c, "@ENV ", 5))
    {
      char const *v = getenv(c + 5) ;
      if (v) printf("MYENV %s=%s\n", c + 5, v) ; else printf("MYENV %s unset\n", c + 5) ;
      continue ;
    }
    if (!strcmp(c, "@FDS")) { print_fds() ; continue ; }
    if (!strcmp(c, "@EOF"))
    {
      char line[70000] ;
      shutdown(out, SHUT_WR) ;
      close(out) ;
      while (get_line(line, sizeof(line)) >= 0) printf("< %s\n", line) ;
      printf("< (EOF)\n") ;
      fflush(stdout) ;
      return 0 ;
    }
    put(c, strlen(c)) ; put("\n", 1) ;
    if (!strcmp(c, "STARTTLS y") || !strcmp(c, "STARTTLS Y"))
    {
      char line[1024] ;
      int const net[2] = { 6, 7 } ;
      tlsinfo info ;
      int want_info = c[9] == 'Y' ;
      if (get_line(line, sizeof(line)) < 0) { printf("< (EOF)\n") ; return 1 ; }
      printf("< %s\n", line) ;
      fflush(stdout) ;
      if (strcmp(line, "OK")) continue ;
      if (!have_u) { fprintf(stderr, "ucspitls-client: no UCSPI-TLS controller\n") ; return 98 ; }
      if (ucspitls_start(&u, net, 2, want_info ? &info : 0, timeout) < 0) die(98, "start TLS") ;
      in = u.rfd ; out = u.wfd ;
      printf("CLIENT TLS started\n") ;
      if (want_info)
      {
        printf("CLIENTINFO SSL_PROTOCOL=%s\n", info.protocol) ;
        printf("CLIENTINFO SSL_CIPHER=%s\n", info.cipher) ;
        if (info.sni[0]) printf("CLIENTINFO SSL_TLS_SNI_SERVERNAME=%s\n", info.sni) ;
        if (info.peer_cert_hash[0]) printf("CLIENTINFO SSL_PEER_CERT_HASH=%s\n", info.peer_cert_hash) ;
        if (info.peer_cert_subject[0]) printf("CLIENTINFO SSL_PEER_CERT_SUBJECT=%s\n", info.peer_cert_subject) ;
      }
      fflush(stdout) ;
      continue ;
    }
    print_reply() ;
    if (!strcmp(c, "QUIT")) break ;
  }
  return 0 ;
}

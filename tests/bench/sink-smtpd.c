/* sink-smtpd.c: the benchmark's SMTP backend on stdin/stdout. It answers
   every command with success, counts DATA bytes without storing them, and
   never offers STARTTLS. Before it exits it waits for its children (a
   proxy or an engine may be one), so the server tree's CPU time reaches
   tcpserver's accounting. Statically linked: its memory is the bench's
   floor, not the subject. */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFSIZE (256 * 1024)
#define LINE_LIMIT 4096

static char buf[BUFSIZE] ;
static size_t start, end ;

static void say (char const *s)
{
  size_t len = strlen(s) ;
  while (len)
  {
    ssize_t w = write(1, s, len) ;
    if (w < 0) { if (errno == EINTR) continue ; exit(111) ; }
    s += w ; len -= (size_t)w ;
  }
}

static void finish (int code)
{
  close(0) ; close(1) ;
  while (wait(0) > 0 || errno == EINTR) ;
  exit(code) ;
}

static int fill (void)
{
  ssize_t r ;
  if (start == end) start = end = 0 ;
  else if (end == sizeof buf) { memmove(buf, buf + start, end - start) ; end -= start ; start = 0 ; }
  do r = read(0, buf + end, sizeof buf - end) ;
  while (r < 0 && errno == EINTR) ;
  if (r <= 0) return 0 ;
  end += (size_t)r ;
  return 1 ;
}

/* Consumes DATA up to and including CRLF.CRLF; returns the bytes before it. */
static unsigned long long data (void)
{
  static char const term[] = "\r\n.\r\n" ;
  unsigned long long n = 0 ;
  unsigned int s = 2 ;  /* the DATA command's own CRLF counts */
  for (;;)
  {
    size_t i = start ;
    while (i < end)
    {
      if (!s)
      {
        char *p = memchr(buf + i, '\r', end - i) ;
        if (!p) { i = end ; break ; }
        i = (size_t)(p - buf) + 1 ; s = 1 ;
        continue ;
      }
      if (buf[i] == term[s]) { i++ ; if (++s == 5) { n += i - start ; start = i ; return n >= 3 ? n - 3 : 0 ; } }
      else if (buf[i] == '\r') { i++ ; s = 1 ; }
      else { i++ ; s = 0 ; }
    }
    n += i - start ;
    start = end = 0 ;
    if (!fill()) finish(1) ;
  }
}

int main (void)
{
  say("220 sink.example ESMTP bench sink\r\n") ;
  for (;;)
  {
    char *nl ;
    char line[LINE_LIMIT] ;
    size_t len ;
    while (!(nl = memchr(buf + start, '\n', end - start)))
    {
      if (end - start >= LINE_LIMIT) { say("500 5.5.2 line too long\r\n") ; finish(1) ; }
      if (!fill()) finish(0) ;
    }
    len = (size_t)(nl - (buf + start)) + 1 ;
    if (len >= sizeof line) len = sizeof line - 1 ;
    memcpy(line, buf + start, len) ;
    line[len] = 0 ;
    start += (size_t)(nl - (buf + start)) + 1 ;
    for (size_t i = 0 ; i < 4 && line[i] ; i++) if (line[i] >= 'a' && line[i] <= 'z') line[i] -= 32 ;
    if (!strncmp(line, "EHLO", 4)) say("250-sink.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n") ;
    else if (!strncmp(line, "DATA", 4))
    {
      char reply[64] ;
      unsigned long long n ;
      say("354 go ahead\r\n") ;
      n = data() ;
      snprintf(reply, sizeof reply, "250 2.0.0 accepted %llu bytes\r\n", n) ;
      say(reply) ;
    }
    else if (!strncmp(line, "QUIT", 4)) { say("221 2.0.0 bye\r\n") ; finish(0) ; }
    else if (!strncmp(line, "HELO", 4) || !strncmp(line, "MAIL", 4) || !strncmp(line, "RCPT", 4)
          || !strncmp(line, "RSET", 4) || !strncmp(line, "NOOP", 4)) say("250 2.0.0 ok\r\n") ;
    else say("502 5.5.2 not implemented\r\n") ;
  }
}

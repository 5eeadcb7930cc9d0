/* check_report.c: ucspitls-check's report: one line per rule, a summary, one write. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "check.h"
#include "exitcodes.h"

static void add (check_report *r, char const *s, size_t len)
{
  if (!stralloc_catb(&r->text, s, len)) strerr_diefsys(UST_EXIT_SYS, "stralloc_catb") ;
}

static void addf (check_report *r, char const *fmt, va_list ap)
{
  char buf[2048] ;
  int n = vsnprintf(buf, sizeof buf, fmt, ap) ;
  if (n < 0) return ;
  add(r, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) ;
}

void check_report_init (check_report *r, unsigned int verbosity, char const *mode)
{
  char pid[PID_FMT] ;
  r->text = stralloc_zero ;
  r->npass = r->nwarn = r->nfail = 0 ;
  r->verbosity = verbosity ;
  tain_now_g() ;
  tain_copynow(&r->start) ;
  add(r, "SESSION ", 8) ;
  add(r, mode, strlen(mode)) ;
  add(r, " pid ", 5) ;
  add(r, pid, pid_fmt(pid, getpid())) ;
  add(r, "\n", 1) ;
}

unsigned long check_ms (check_report const *r)
{
  tain now, d ;
  tain_now(&now) ;
  tain_sub(&d, &now, &r->start) ;
  return (unsigned long)tain_to_millisecs(&d) ;
}

void check_rule (check_report *r, check_verdict v, char const *rule, char const *fmt, ...)
{
  static char const *const word[3] = { "PASS ", "WARN ", "FAIL " } ;
  va_list ap ;
  if (v == CHECK_PASS) r->npass++ ;
  else if (v == CHECK_WARN) r->nwarn++ ;
  else r->nfail++ ;
  add(r, word[v], 5) ;
  add(r, rule, strlen(rule)) ;
  add(r, ": ", 2) ;
  va_start(ap, fmt) ;
  addf(r, fmt, ap) ;
  va_end(ap) ;
  add(r, "\n", 1) ;
}

void check_trace (check_report *r, char const *fmt, ...)
{
  char head[64] ;
  unsigned long ms ;
  va_list ap ;
  if (r->verbosity < 2) return ;
  ms = check_ms(r) ;
  add(r, head, (size_t)snprintf(head, sizeof head, "TRACE +%lu.%03lu ", ms / 1000, ms % 1000)) ;
  va_start(ap, fmt) ;
  addf(r, fmt, ap) ;
  va_end(ap) ;
  add(r, "\n", 1) ;
}

void check_quote (stralloc *sa, char const *s, size_t len, size_t max)
{
  static char const hex[] = "0123456789abcdef" ;
  size_t start = sa->len ;
  for (size_t i = 0 ; i < len && sa->len - start < max ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    char e[4] = { '\\', 0, 0, 0 } ;
    size_t n = 2 ;
    if (c == '\r') e[1] = 'r' ;
    else if (c == '\n') e[1] = 'n' ;
    else if (c == '\\') e[1] = '\\' ;
    else if (c < 32 || c >= 127) { e[1] = 'x' ; e[2] = hex[c >> 4] ; e[3] = hex[c & 15] ; n = 4 ; }
    else { e[0] = (char)c ; n = 1 ; }
    if (!stralloc_catb(sa, e, n)) strerr_diefsys(UST_EXIT_SYS, "stralloc_catb") ;
  }
}

int check_report_end (check_report *r, char const *output)
{
  char line[128] ;
  stralloc out = stralloc_zero ;
  int fd = 2 ;
  add(r, line, (size_t)snprintf(line, sizeof line, "SUMMARY: %u passed, %u warned, %u failed\n", r->npass, r->nwarn, r->nfail)) ;
  if (output)
  {
    fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) ;
    if (fd < 0) strerr_diefsys(UST_EXIT_SYS, "open ", output) ;
    if (allwrite(fd, r->text.s, r->text.len) < r->text.len) strerr_diefsys(UST_EXIT_SYS, "write ", output) ;
    close(fd) ;
  }
  else
  {
    /* the log's convention: every line names the program */
    for (size_t i = 0 ; i < r->text.len ;)
    {
      char const *nl = memchr(r->text.s + i, '\n', r->text.len - i) ;
      size_t n = (size_t)(nl - (r->text.s + i)) + 1 ;
      if (!stralloc_cats(&out, PROG) || !stralloc_catb(&out, ": ", 2) || !stralloc_catb(&out, r->text.s + i, n))
        strerr_diefsys(UST_EXIT_SYS, "stralloc_catb") ;
      i += n ;
    }
    allwrite(fd, out.s, out.len) ;
    stralloc_free(&out) ;
  }
  stralloc_free(&r->text) ;
  return r->nfail ? 1 : 0 ;
}

/* client_pop3.c: pop3c-starttls's side of POP3 (RFC 1939, RFC 2449, RFC 2595):
   greeting, CAPA, STLS before TLS. Inside TLS nothing is rewritten: which
   responses are multi-line depends on the command, and a guess could
   change a message; a server does not offer STLS there (RFC 2595 §4: STLS
   is for the AUTHORIZATION state before TLS). */
#include <string.h>
#include <strings.h>
#include "client.h"

static int ok_line (char const *s, size_t n) { return n >= 3 && !memcmp(s, "+OK", 3) && (n == 3 || s[3] == ' ' || s[3] == '\r' || s[3] == '\n') ; }

/* Is the CAPA line (dot-unstuffed) the STLS capability? */
static int stls_line (char const *s, size_t n)
{
  size_t i = 4 ;
  if (n < 5 || strncasecmp(s, "STLS", 4)) return 0 ;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++ ;
  if (i < n && s[i] == '\r') i++ ;
  return i + 1 == n && s[i] == '\n' ;
}

static cp_verdict status (cp_dialog *d, char const *what, int *ok)
{
  char const *s ;
  size_t n ;
  cp_verdict v = cp_line(d, &s, &n) ;
  if (v != CP_OK) return v ;
  *ok = ok_line(s, n) ;
  if (!*ok && !cp_casestart(s, n, "-ERR")) { cp_why(d, what, s, n) ; return CP_BAD_SERVER ; }
  cp_why(d, "", s, n) ;
  return CP_OK ;
}

static cp_verdict pop3_dialogue (cp_dialog *d)
{
  char const *s ;
  size_t n ;
  int ok, stls = 0 ;
  unsigned int lines = 0 ;
  cp_verdict v = cp_line(d, &s, &n) ;
  if (v != CP_OK) return v ;
  if (!ok_line(s, n)) { cp_why(d, "the server's greeting is not +OK: ", s, n) ; return CP_BAD_SERVER ; }
  cp_clean_line(&d->greeting, s, n) ;
  v = cp_send(d, "CAPA\r\n") ;
  if (v == CP_OK) v = status(d, "not a POP3 status line: ", &ok) ;
  if (v != CP_OK) return v ;
  if (!ok) { cp_why_before(d, "CAPA refused, so no STLS is offered: ") ; return CP_NOT_OFFERED ; }
  for (;;)
  {
    v = cp_line(d, &s, &n) ;
    if (v != CP_OK) return v ;
    if (n && s[0] == '.')
    {
      if (n == 2 || (n == 3 && s[1] == '\r')) break ;  /* ".\r\n" (or ".\n") ends it */
      s++ ; n-- ;
    }
    if (stls_line(s, n)) stls = 1 ;
    if (++lines >= CP_REPLY_LINES_MAX) { cp_why(d, "a CAPA response of more lines than the proxy takes", 0, 0) ; return CP_BAD_SERVER ; }
  }
  if (!stls) { cp_why(d, "the server's CAPA response offers no STLS", 0, 0) ; return CP_NOT_OFFERED ; }
  v = cp_send(d, "STLS\r\n") ;
  if (v == CP_OK) v = status(d, "not a POP3 status line: ", &ok) ;
  if (v != CP_OK) return v ;
  if (!ok) { cp_why_before(d, "STLS refused: ") ; return CP_REFUSED ; }
  v = cp_nothing_after(d) ;
  return v == CP_OK ? CP_START_TLS : v ;
}

void cp_pop3 (cp_protocol *p)
{
  p->name = "pop3" ;
  p->verb = "STLS" ;
  p->filter = CP_FILTER_NONE ;
  p->line_max = 4096 ;
  p->idle_ms = 600000 ;
  p->dialogue = &pop3_dialogue ;
  p->after_tls = 0 ;
  p->refusal = "-ERR " ;
}

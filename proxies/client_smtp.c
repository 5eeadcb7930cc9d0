/* client_smtp.c: smtpc-starttls's side of SMTP (RFC 5321, RFC 3207):
   greeting, EHLO, STARTTLS before TLS; EHLO again inside it. */
#include <string.h>
#include "client.h"

/* A reply line: three digits, then '-', ' ' or the line's end. */
static int reply_line (char const *s, size_t n, int *more)
{
  if (n < 4 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') return 0 ;
  if (s[3] == '-') { *more = 1 ; return 1 ; }
  *more = 0 ;
  return s[3] == ' ' || s[3] == '\r' || s[3] == '\n' ;
}

/* Reads one whole reply (at most CP_REPLY_LINES_MAX lines, one code).
   code gets its code; keep, if not NULL, the cleaned lines; *starttls (if
   not NULL) is 1 if a line after the first is the STARTTLS keyword. */
static cp_verdict reply (cp_dialog *d, char code[4], stralloc *keep, int *starttls)
{
  unsigned int lines = 0 ;
  if (starttls) *starttls = 0 ;
  for (;;)
  {
    char const *s ;
    size_t n ;
    int more ;
    cp_verdict v = cp_line(d, &s, &n) ;
    if (v != CP_OK) return v ;
    if (!reply_line(s, n, &more)) { cp_why(d, "not an SMTP reply line: ", s, n) ; return CP_BAD_SERVER ; }
    if (!lines) { memcpy(code, s, 3) ; code[3] = 0 ; }
    else if (memcmp(code, s, 3)) { cp_why(d, "a multi-line reply with two codes: ", s, n) ; return CP_BAD_SERVER ; }
    if (lines && starttls && cp_smtp_starttls_line(s, n)) *starttls = 1 ;
    if (keep) cp_clean_line(keep, s, n) ;
    if (!more) { cp_why(d, "", s, n) ; return CP_OK ; }
    if (++lines >= CP_REPLY_LINES_MAX) { cp_why(d, "a reply of more lines than the proxy takes", 0, 0) ; return CP_BAD_SERVER ; }
  }
}

static cp_verdict ehlo (cp_dialog *d, int *starttls)
{
  char code[4] ;
  char line[5 + 255 + 3] = "EHLO " ;  /* one write: a command in pieces waits on Nagle and the delayed ACK */
  size_t n = strlen(d->ehlo_name) ;
  cp_verdict v ;
  if (n > 255) n = 255 ;  /* -h takes at most 255; the default is shorter */
  memcpy(line + 5, d->ehlo_name, n) ;
  memcpy(line + 5 + n, "\r\n", 3) ;
  v = cp_send(d, line) ;
  if (v == CP_OK) v = reply(d, code, 0, starttls) ;
  if (v != CP_OK) return v ;
  if (strcmp(code, "250")) { cp_why_before(d, "EHLO refused: ") ; return CP_NOT_OFFERED ; }
  return CP_OK ;
}

static cp_verdict smtp_dialogue (cp_dialog *d)
{
  char code[4] ;
  int starttls ;
  cp_verdict v = reply(d, code, &d->greeting, 0) ;
  if (v != CP_OK) return v ;
  if (strcmp(code, "220")) { cp_why_before(d, "the server's greeting is not 220: ") ; return CP_BAD_SERVER ; }
  v = ehlo(d, &starttls) ;
  if (v != CP_OK) return v ;
  if (!starttls) { cp_why(d, "the server's EHLO reply offers no STARTTLS", 0, 0) ; return CP_NOT_OFFERED ; }
  v = cp_send(d, "STARTTLS\r\n") ;
  if (v == CP_OK) v = reply(d, code, 0, 0) ;
  if (v != CP_OK) return v ;
  if (strcmp(code, "220")) { cp_why_before(d, "STARTTLS refused: ") ; return CP_REFUSED ; }
  v = cp_nothing_after(d) ;
  return v == CP_OK ? CP_START_TLS : v ;
}

/* RFC 3207 §4.2: the client forgets what it learnt before TLS and says EHLO
   again. The reply is the proxy's; the client's own EHLO comes next. */
static cp_verdict smtp_after_tls (cp_dialog *d)
{
  int starttls ;
  cp_verdict v = ehlo(d, &starttls) ;
  if (v == CP_NOT_OFFERED) { cp_why_before(d, "inside TLS: ") ; return CP_BAD_SERVER ; }
  if (v != CP_OK) return v ;
  d->tls_caps_after = starttls ;
  if (d->r.end > d->r.start || d->r.ready(d->r.ctx, d->r.fd))
  {
    cp_why(d, "inside TLS, bytes after the EHLO reply that nothing asked for", 0, 0) ;
    return CP_BAD_SERVER ;
  }
  return CP_OK ;
}

void cp_smtp (cp_protocol *p)
{
  p->name = "smtp" ;
  p->verb = "STARTTLS" ;
  p->filter = CP_FILTER_SMTP ;
  p->line_max = 4096 ;
  p->idle_ms = 300000 ;
  p->dialogue = &smtp_dialogue ;
  p->after_tls = &smtp_after_tls ;
  p->refusal = "421 4.7.0 " ;
}

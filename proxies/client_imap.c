/* client_imap.c: imapc-starttls's side of IMAP (RFC 3501 §6.2.1, RFC 9051):
   greeting, CAPABILITY, STARTTLS before TLS. */
#include <string.h>
#include "client.h"

static int status (char const *s, size_t n, size_t at, char const *word)
{
  size_t k = strlen(word) ;
  return n >= at + k + 1 && cp_casestart(s + at, n - at, word) && (s[at + k] == ' ' || s[at + k] == '\r' || s[at + k] == '\n') ;
}

/* The greeting the client gets: "* OK" (or, in cleartext under -O,
   "* PREAUTH") and the server's text, without the response codes before
   it (a [CAPABILITY] one lists what holds before TLS only), printable ASCII
   only, and never ending in '}' (no parser may take it for a literal
   announced by a server that was not yet authenticated). */
static void greeting (stralloc *out, char const *s, size_t n, char const *status)
{
  size_t i = strlen(status) + 1 ;
  stralloc t = STRALLOC_ZERO ;
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n-- ;
  if (i > n) i = n ;
  /* every leading code, with the blanks a lenient parser would skip to one */
  for (;;)
  {
    char const *e ;
    while (i < n && s[i] == ' ') i++ ;
    if (i >= n || s[i] != '[') break ;
    e = memchr(s + i, ']', n - i) ;
    i = e ? (size_t)(e - s) + 1 : n ;  /* an unclosed code: none of it */
  }
  ust_catb(&t, status, strlen(status)) ;
  ust_catb(&t, " ", 1) ;
  if (i < n) ust_catb(&t, s + i, n - i) ;
  else ust_catb(&t, "ready", 5) ;  /* resp-text is never empty */
  if (t.s[t.len - 1] == '}' ) ust_catb(&t, ".", 1) ;
  cp_clean_line(out, t.s, t.len) ;
  stralloc_free(&t) ;
}

/* Reads responses up to the tagged one for tag: *ok says if it was OK,
   *starttls if a capability list on the way offered STARTTLS. */
static cp_verdict tagged (cp_dialog *d, char const *tag, int *ok, unsigned int *starttls)
{
  size_t tl = strlen(tag) ;
  unsigned int lines = 0 ;
  stralloc scratch = STRALLOC_ZERO ;
  for (;;)
  {
    char const *s ;
    size_t n ;
    unsigned int dropped = 0 ;
    cp_verdict v = cp_line(d, &s, &n) ;
    if (v != CP_OK) { stralloc_free(&scratch) ; return v ; }
    scratch.len = 0 ;
    cp_imap_response(s, n, &scratch, &dropped, starttls) ;
    if (n > tl && !memcmp(s, tag, tl) && s[tl] == ' ')
    {
      *ok = status(s, n, tl + 1, "OK") ;
      cp_why(d, "", s, n) ;
      stralloc_free(&scratch) ;
      return CP_OK ;
    }
    if (status(s, n, 0, "* BYE")) { cp_why(d, "the server said: ", s, n) ; stralloc_free(&scratch) ; return CP_GONE ; }
    if (++lines >= CP_REPLY_LINES_MAX) { cp_why(d, "more untagged responses than the proxy takes", 0, 0) ; stralloc_free(&scratch) ; return CP_BAD_SERVER ; }
  }
}

static cp_verdict imap_dialogue (cp_dialog *d)
{
  char const *s ;
  size_t n ;
  unsigned int dropped = 0, starttls = 0 ;
  int ok ;
  stralloc scratch = STRALLOC_ZERO ;
  cp_verdict v = cp_line(d, &s, &n) ;
  if (v != CP_OK) return v ;
  if (status(s, n, 0, "* PREAUTH"))
  {
    greeting(&d->greeting, s, n, "* PREAUTH") ;  /* for -O alone */
    cp_why(d, "a PREAUTH greeting: STARTTLS is impossible (RFC 3501 6.2.1): ", s, n) ;
    return CP_NOT_OFFERED ;
  }
  if (!status(s, n, 0, "* OK")) { cp_why(d, "the server's greeting is not * OK: ", s, n) ; return CP_BAD_SERVER ; }
  greeting(&d->greeting, s, n, "* OK") ;
  cp_imap_response(s, n, &scratch, &dropped, &starttls) ;
  stralloc_free(&scratch) ;
  if (!starttls)
  {
    v = cp_send(d, "C1 CAPABILITY\r\n") ;
    if (v == CP_OK) v = tagged(d, "C1", &ok, &starttls) ;
    if (v != CP_OK) return v ;
    if (!ok) { cp_why_before(d, "CAPABILITY failed: ") ; return CP_NOT_OFFERED ; }
    if (!starttls) { cp_why(d, "the server's capabilities hold no STARTTLS", 0, 0) ; return CP_NOT_OFFERED ; }
  }
  v = cp_send(d, "C2 STARTTLS\r\n") ;
  if (v == CP_OK) v = tagged(d, "C2", &ok, &starttls) ;
  if (v != CP_OK) return v ;
  if (!ok) { cp_why_before(d, "STARTTLS refused: ") ; return CP_REFUSED ; }
  v = cp_nothing_after(d) ;
  return v == CP_OK ? CP_START_TLS : v ;
}

void cp_imap (cp_protocol *p)
{
  p->name = "imap" ;
  p->verb = "STARTTLS" ;
  p->filter = CP_FILTER_IMAP ;
  p->line_max = 65536 ;
  p->idle_ms = 1800000 ;
  p->dialogue = &imap_dialogue ;
  p->after_tls = 0 ;
  p->refusal = "* BYE " ;
}

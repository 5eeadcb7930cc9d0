/* imap.c: the IMAP rules of imapd-starttls (RFC 3501, RFC 9051, RFC 2595, RFC 7888).
   STARTTLS belongs to the proxy: it is added to every capability list while TLS
   can start, a backend's own STARTTLS and LOGINDISABLED never pass, and with -T
   LOGINDISABLED is ours and LOGIN/AUTHENTICATE are refused until TLS. Literals
   ({n}, {n+}, ~{n}) are data in both directions, never commands. */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/random.h>
#include "imap.h"

enum reply_kind { K_GREETING, K_COMMAND, K_PROBE } ;
enum raw_state { RAW_NONE, RAW_WAIT, RAW_OPEN } ;

#define TAG_MAX 64

/* The per-session state: the framework allocates it zeroed (state_size)
   and hands it to every callback through proxy_state(p). */
typedef struct imap_state_s {
  int client_cont ;        /* the next client line continues a command (after its literal) */
  int client_raw ;         /* AUTHENTICATE or IDLE runs: RAW_WAIT, the client is held until the
                              backend's "+" (RAW_OPEN: one client line passes untouched, then
                              RAW_WAIT again) or the completion of raw_tag (back to RAW_NONE) */
  char raw_tag[TAG_MAX] ;
  char probe_tag[24] ;     /* the proxy's own NOOP before STARTTLS's OK, under an unpredictable tag */
  char starttls_tag[TAG_MAX] ;  /* the client's STARTTLS awaiting that proof */
  stralloc tags ;          /* the tags of the commands forwarded and not completed, each NUL-ended */
  int sync_wait ;          /* a synchronizing literal waits for the backend's "+" */
  uint64_t sync_n ;
  char sync_tag[TAG_MAX] ;
  int backend_cont ;       /* the next backend line continues a response (after its literal) */
  int backend_piece ;      /* the previous backend chunk had no LF */
  stralloc out ;
} imap_state ;

#define ST(p) (*(imap_state *)proxy_state(p))

/* Removes tag from ST(p).tags; 0 if it was not there (a tag never forwarded). */
static int tag_done (proxy *p, char const *tag)
{
  size_t n = strlen(tag) + 1 ;
  for (size_t i = 0 ; i < ST(p).tags.len ; i += strlen(ST(p).tags.s + i) + 1)
    if (!strcmp(ST(p).tags.s + i, tag))
    {
      memmove(ST(p).tags.s + i, ST(p).tags.s + i + n, ST(p).tags.len - i - n) ;
      ST(p).tags.len -= n ;
      return 1 ;
    }
  return 0 ;
}

/* Is line[pos] inside a quoted string (RFC 9051 quoted: '"', backslash escapes)? */
static int quoted_at (char const *line, size_t pos)
{
  int q = 0 ;
  for (size_t i = 0 ; i < pos ; i++)
  {
    if (q && line[i] == '\\') i++ ;
    else if (line[i] == '"') q = !q ;
  }
  return q ;
}

/* Parses a literal announcement at the end of a line: "{n}", "{n+}" (RFC 7888) or
   "~{n}" (RFC 3516), before CRLF. Returns 1 and sets *n and *sync, else 0. */
static int literal_at_end (char const *line, size_t len, uint64_t *n, int *sync)
{
  size_t i = len, end ;
  uint64_t v = 0 ;
  if (i && line[i - 1] == '\n') i-- ;
  if (i && line[i - 1] == '\r') i-- ;
  if (!i || line[--i] != '}') return 0 ;
  *sync = 1 ;
  if (i && line[i - 1] == '+') { *sync = 0 ; i-- ; }
  end = i ;
  while (i && line[i - 1] >= '0' && line[i - 1] <= '9') i-- ;
  if (i == end || !i || line[i - 1] != '{') return 0 ;
  /* the whole digit run, as a server reads it: leading zeros count for
     nothing, a value past 2^63 is simply too large */
  for (size_t j = i ; j < end ; j++)
  {
    if (v > ((uint64_t)1 << 59)) { v = UINT64_MAX ; break ; }
    v = v * 10 + (uint64_t)(line[j] - '0') ;
  }
  *n = v ;
  return (int)i ;  /* where its brace is, plus one */
}

/* Copies the tag (up to the first space) into tag; returns its length, or 0. */
static size_t get_tag (char const *line, size_t len, char *tag)
{
  size_t n = 0 ;
  while (n < len && line[n] != ' ' && line[n] != '\r' && line[n] != '\n') n++ ;
  if (!n || n >= TAG_MAX || n >= len || line[n] != ' ') return 0 ;
  memcpy(tag, line, n) ;
  tag[n] = 0 ;
  return n ;
}

static int word_is (char const *s, size_t len, char const *w)
{
  size_t n = strlen(w) ;
  return len >= n && !strncasecmp(s, w, n) && (len == n || s[n] == ' ' || s[n] == '\r' || s[n] == '\n') ;
}

/* A tag as RFC 9051 has it: ASTRING-CHARs but "+". */
static int tag_ok (char const *tag)
{
  if (!*tag) return 0 ;
  for (; *tag ; tag++)
    if (*tag <= ' ' || *tag >= 0x7f || strchr("(){%*\"\\+", *tag)) return 0 ;
  return 1 ;
}

/* Before TLS, while framing matters (proxy_cleartext_strict), the commands
   that pass: those of the not-authenticated state that carry no credentials,
   in a line every server splits alike, with no literal (cmd is the line
   after its tag and SP). */
static int allowed_before_tls (char const *line, size_t len, char const *tag, char const *cmd, size_t clen)
{
  static char const *const bare[] = { "CAPABILITY\r\n", "NOOP\r\n", "LOGOUT\r\n", 0 } ;
  if (!tag_ok(tag) || !proxy_plain_line(line, len, PROXY_PLAIN_WORDS)) return 0 ;
  for (char const *const *w = bare ; *w ; w++)
    if (clen == strlen(*w) && !strncasecmp(cmd, *w, clen)) return 1 ;
  return 0 ;
}

/* A local tagged (or untagged, tag "*") answer, after every reply still due. */
static proxy_verdict answer (proxy *p, char const *tag, char const *text)
{
  if (proxy_pending(p)) return PROXY_WAIT ;
  proxy_say(p, tag) ;
  proxy_say(p, " ") ;
  proxy_say(p, text) ;
  proxy_say(p, "\r\n") ;
  return PROXY_TAKEN ;
}

/* STARTTLS is decided by the framework (proxy_tls_request); these are its
   IMAP words, tagged with the client's STARTTLS tag, and the proof that the
   backend is at a command boundary: a NOOP of our own under a tag nobody
   can guess, whose completion backend_line waits for. */
static void tls_answer (proxy *p, proxy_tls_answer what)
{
  static char const *const text[] = {
    [PROXY_TLS_ALREADY] = " BAD TLS is already active\r\n",
    [PROXY_TLS_ARGS] = " BAD STARTTLS takes no arguments\r\n",
    [PROXY_TLS_UNAVAILABLE] = " NO TLS not available\r\n",
    [PROXY_TLS_INJECTION] = "* BYE STARTTLS must be the last command of a pipeline\r\n",
    [PROXY_TLS_PROBE_FAILED] = " NO TLS not available\r\n",
    [PROXY_TLS_ACCEPT] = " OK Begin TLS negotiation now\r\n",
  } ;
  if (what != PROXY_TLS_INJECTION) proxy_say(p, ST(p).starttls_tag) ;
  proxy_say(p, text[what]) ;
}

static void tls_probe (proxy *p)
{
  static char const hex[] = "0123456789abcdef" ;
  unsigned char r[8] ;
  random_buf((char *)r, sizeof(r)) ;
  memcpy(ST(p).probe_tag, "ust", 3) ;
  for (unsigned int i = 0 ; i < sizeof(r) ; i++) { ST(p).probe_tag[3 + 2 * i] = hex[r[i] >> 4] ; ST(p).probe_tag[4 + 2 * i] = hex[r[i] & 15] ; }
  ST(p).probe_tag[3 + 2 * sizeof(r)] = 0 ;
  proxy_to_backend(p, ST(p).probe_tag, strlen(ST(p).probe_tag)) ;
  proxy_to_backend(p, " NOOP\r\n", 7) ;
  proxy_expect(p, K_PROBE) ;
}

/* Forwards a command line (fresh: a reply is then due) or a continuation
   line, and sets up its literal. */
static proxy_verdict forward (proxy *p, char const *line, size_t len, char const *tag, int fresh)
{
  uint64_t n ;
  int sync ;
  int lit = literal_at_end(line, len, &n, &sync) ;
  if (lit && quoted_at(line, (size_t)lit - 1))
  {
    /* "{n}" inside a quoted string is no literal to the RFC but one to a
       lenient server: framed differently by two readers, never forwarded. */
    proxy_note_injection(p) ;
    proxy_log(p, 1, "refused a literal marker inside a quoted string", 0, 0) ;
    if (!sync || !fresh) { proxy_say(p, "* BYE ambiguous literal\r\n") ; proxy_close(p) ; return PROXY_TAKEN ; }
    ST(p).client_cont = 0 ;
    return answer(p, tag, "BAD literal marker inside a quoted string") ;
  }
  if (lit && n > IMAP_LITERAL_MAX)
  {
    proxy_log(p, 1, "refused an oversized literal", 0, 0) ;
    if (!sync) { proxy_say(p, "* BYE literal too large\r\n") ; proxy_close(p) ; return PROXY_TAKEN ; }
    if (!fresh) { proxy_say(p, "* BYE literal too large\r\n") ; proxy_close(p) ; return PROXY_TAKEN ; }
    ST(p).client_cont = 0 ;
    return answer(p, tag, "BAD literal too large") ;
  }
  if (fresh)
  {
    proxy_expect(p, K_COMMAND) ;
    ust_catb(&ST(p).tags, tag, strlen(tag) + 1) ;
  }
  proxy_to_backend(p, line, len) ;
  ST(p).client_cont = lit ;
  if (!lit) return PROXY_TAKEN ;
  if (!sync) proxy_client_literal(p, n) ;
  else
  {
    /* The client sends the literal only after the backend's "+": nothing more is read until then. */
    ST(p).sync_wait = 1 ;
    ST(p).sync_n = n ;
    memcpy(ST(p).sync_tag, tag, strlen(tag) + 1) ;
    proxy_client_hold(p) ;
  }
  return PROXY_TAKEN ;
}

static proxy_verdict handle_line (proxy *p, char const *line, size_t len)
{
  char tag[TAG_MAX] ;
  size_t t ;
  char const *cmd ;
  size_t clen ;
  int args ;
  if (ST(p).client_raw == RAW_OPEN)
  {
    /* one line (SASL data, IDLE's DONE) per "+" of the backend */
    proxy_to_backend(p, line, len) ;
    ST(p).client_raw = RAW_WAIT ;
    proxy_client_hold(p) ;
    return PROXY_TAKEN ;
  }
  if (ST(p).client_cont) return forward(p, line, len, ST(p).sync_tag, 0) ;
  t = get_tag(line, len, tag) ;
  if (!t) return answer(p, "*", "BAD missing tag or command") ;
  cmd = line + t + 1 ;
  clen = len - t - 1 ;
  {
    size_t w = 0 ;
    while (w < clen && cmd[w] != ' ' && cmd[w] != '\r' && cmd[w] != '\n') w++ ;
    args = 0 ;
    for (size_t i = w ; i < clen ; i++) if (cmd[i] != ' ' && cmd[i] != '\r' && cmd[i] != '\n') args = 1 ;
  }
  if (word_is(cmd, clen, "STARTTLS"))
  {
    memcpy(ST(p).starttls_tag, tag, t + 1) ;
    return proxy_tls_request(p, args) ;
  }
  if (proxy_cleartext_strict(p) && word_is(cmd, clen, "ID") && tag_ok(tag))
  {
    /* Answered here: some servers keep what a first ID says (Dovecot's
       forwarded client address from a trusted proxy, Cyrus's one ID per
       session), and a man in the middle's would outlive TLS. */
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_say(p, "* ID NIL\r\n") ;
    return answer(p, tag, "OK ID completed") ;
  }
  if (proxy_cleartext_strict(p) && !allowed_before_tls(line, len, tag, cmd, clen))
  {
    if (proxy_require_tls(p))
    {
      uint64_t n ;
      int sync ;
      char const *why = word_is(cmd, clen, "LOGIN") ? "LOGIN is disabled until STARTTLS"
        : word_is(cmd, clen, "AUTHENTICATE") ? "AUTHENTICATE is disabled until STARTTLS"
        : "Only CAPABILITY, NOOP, LOGOUT, ID and STARTTLS until STARTTLS" ;
      if (literal_at_end(line, len, &n, &sync) && !sync)
      {
        /* its literal is on its way and would be read as commands: end here */
        proxy_say(p, "* BYE ") ;
        proxy_say(p, why) ;
        proxy_say(p, "\r\n") ;
        proxy_close(p) ;
        return PROXY_TAKEN ;
      }
      proxy_log(p, 2, "command refused before STARTTLS (-T)", 0, 0) ;
      if (proxy_pending(p)) return PROXY_WAIT ;
      proxy_say(p, tag_ok(tag) ? tag : "*") ;
      proxy_say(p, " NO [PRIVACYREQUIRED] ") ;
      proxy_say(p, why) ;
      proxy_say(p, "\r\n") ;
      return PROXY_TAKEN ;
    }
    /* credentials in cleartext, or a line some server would frame
       otherwise: the session is committed to cleartext */
    proxy_decline(p) ;
  }
  memcpy(ST(p).sync_tag, tag, t + 1) ;
  if ((word_is(cmd, clen, "AUTHENTICATE") || word_is(cmd, clen, "IDLE")) && !literal_at_end(line, len, &(uint64_t){0}, &(int){0}))
  {
    /* What follows is raw only once the backend says "+" for it: until
       then nothing more is read (a refused IDLE must not let lines pass). */
    size_t before = ST(p).tags.len ;
    proxy_verdict v = forward(p, line, len, tag, 1) ;
    if (ST(p).tags.len == before) return v ;  /* not forwarded */
    ST(p).client_raw = RAW_WAIT ;
    memcpy(ST(p).raw_tag, tag, t + 1) ;
    proxy_client_hold(p) ;
    return v ;
  }
  return forward(p, line, len, tag, 1) ;
}

static proxy_verdict client_line (proxy *p, char const *line, size_t len)
{
  if (ST(p).client_raw == RAW_NONE && !ST(p).client_cont)
  {
    size_t t = 0 ;
    while (t < len && line[t] != ' ') t++ ;
    proxy_trace(p, line, len, t + 1) ;
  }
  return handle_line(p, line, len) ;
}

static proxy_verdict client_bad_line (proxy *p, proxy_badline why, char const *line, size_t len)
{
  char tag[TAG_MAX] ;
  size_t t ;
  if (ST(p).client_cont || ST(p).client_raw == RAW_OPEN)
  {
    /* the backend holds the start of this command (or its exchange) and
       waits for its rest: nothing can be forwarded that it would not take
       as that rest, and it will answer nothing before it */
    proxy_log(p, 1, why == PROXY_LINE_NUL ? "refused a command line holding a NUL byte" : "refused an overlong command line", " in the middle of a command: closing", 0) ;
    proxy_say(p, "* BYE command line refused in the middle of a command\r\n") ;
    proxy_close(p) ;
    return PROXY_TAKEN ;
  }
  if (proxy_pending(p)) return PROXY_WAIT ;
  proxy_log(p, 1, why == PROXY_LINE_NUL ? "refused a command line holding a NUL byte" : "refused an overlong command line", 0, 0) ;
  /* the answer goes to the line's tag when it is readable: the client waits for it */
  t = get_tag(line, len, tag) ;
  for (size_t i = 0 ; i < t ; i++) if (tag[i] <= ' ' || tag[i] >= 0x7f || tag[i] == '+' || tag[i] == '*') { t = 0 ; break ; }
  proxy_say(p, t ? tag : "*") ;
  proxy_say(p, why == PROXY_LINE_NUL ? " BAD NUL byte in command\r\n" : " BAD line too long\r\n") ;
  return PROXY_TAKEN ;
}

/* Appends to ST(p).out the capability list caps (len bytes, atoms separated by
   spaces) without STARTTLS and LOGINDISABLED, then ours. Under -T before
   TLS the AUTH= atoms go too: only what will be accepted is advertised. */
static void rewrite_caps (proxy *p, char const *caps, size_t len)
{
  size_t i = 0 ;
  int first = 1, offers = 0 ;
  int hide_auth = proxy_require_tls(p) && !proxy_tls_active(p) ;
  while (i < len)
  {
    size_t j = i ;
    while (j < len && caps[j] != ' ') j++ ;
    if (j > i && hide_auth && j - i >= 5 && !strncasecmp(caps + i, "AUTH=", 5)) ;
    else if (j > i && !word_is(caps + i, j - i, "STARTTLS") && !word_is(caps + i, j - i, "LOGINDISABLED"))
    {
      if (!first) ust_catb(&ST(p).out, " ", 1) ;
      ust_catb(&ST(p).out, caps + i, j - i) ;
      first = 0 ;
    }
    else if (j > i) offers = 1 ;
    i = j + 1 ;
  }
  proxy_backend_capabilities(p, offers) ;
  if (proxy_tls_available(p)) proxy_cats(&ST(p).out, first ? "STARTTLS" : " STARTTLS"), first = 0 ;
  if (proxy_require_tls(p) && !proxy_tls_active(p)) proxy_cats(&ST(p).out, first ? "LOGINDISABLED" : " LOGINDISABLED") ;
}

/* Forwards a response line with its capability list rewritten, if it has one:
   "* CAPABILITY ..." or a "[CAPABILITY ...]" response code. */
static void emit_response (proxy *p, char const *line, size_t len)
{
  char const *code = 0, *caps ;
  size_t capslen, off ;
  if (len >= 13 && !strncasecmp(line, "* CAPABILITY ", 13))
  {
    size_t end = len ;
    while (end > 13 && (line[end - 1] == '\n' || line[end - 1] == '\r')) end-- ;
    ST(p).out.len = 0 ;
    ust_catb(&ST(p).out, line, 13) ;
    rewrite_caps(p, line + 13, end - 13) ;
    ust_catb(&ST(p).out, line + end, len - end) ;
    proxy_to_client(p, ST(p).out.s, ST(p).out.len) ;
    return ;
  }
  for (size_t i = 0 ; i + 12 <= len ; i++)
    if (line[i] == '[' && !strncasecmp(line + i + 1, "CAPABILITY ", 11)) { code = line + i ; break ; }
  if (!code || !(caps = memchr(code, ']', len - (code - line)))) { proxy_to_client(p, line, len) ; return ; }
  off = (size_t)(code - line) + 12 ;
  capslen = (size_t)(caps - line) - off ;
  ST(p).out.len = 0 ;
  ust_catb(&ST(p).out, line, off) ;
  rewrite_caps(p, line + off, capslen) ;
  ust_catb(&ST(p).out, caps, len - (size_t)(caps - line)) ;
  proxy_to_client(p, ST(p).out.s, ST(p).out.len) ;
}

static void backend_line (proxy *p, char const *line, size_t len)
{
  int piece = len && line[len - 1] != '\n' ;
  int cont = ST(p).backend_cont || ST(p).backend_piece ;
  uint64_t n ;
  int sync ;
  ST(p).backend_piece = piece ;
  if (cont)
  {
    proxy_to_client(p, line, len) ;
    ST(p).backend_cont = 0 ;
    if (!piece && literal_at_end(line, len, &n, &sync)) { proxy_backend_literal(p, n) ; ST(p).backend_cont = 1 ; }
    return ;
  }
  if (proxy_expected(p) == K_GREETING)
  {
    if (len >= 10 && !strncasecmp(line, "* PREAUTH", 9))
    {
      /* Already authenticated in cleartext: STARTTLS can never come firST(p). */
      proxy_log(p, 1, "the backend greeted with PREAUTH: STARTTLS is impossible, session refused", 0, 0) ;
      proxy_say(p, "* BYE PREAUTH is incompatible with STARTTLS\r\n") ;
      proxy_close(p) ;
      return ;
    }
    proxy_reply_done(p) ;
    emit_response(p, line, len) ;
    return ;
  }
  if (line[0] == '+')
  {
    proxy_to_client(p, line, len) ;
    if (ST(p).sync_wait)
    {
      ST(p).sync_wait = 0 ;
      proxy_client_literal(p, ST(p).sync_n) ;
      proxy_client_resume(p) ;
    }
    else if (ST(p).client_raw == RAW_WAIT)
    {
      ST(p).client_raw = RAW_OPEN ;
      proxy_client_resume(p) ;
    }
    else if (!piece && proxy_desync(p, "a continuation request no command awaited"))
    {
      proxy_say(p, "* BYE backend out of step\r\n") ;
      proxy_close(p) ;
    }
    return ;
  }
  if (line[0] == '*') emit_response(p, line, len) ;
  else
  {
    char tag[TAG_MAX] ;
    if (get_tag(line, len, tag) && proxy_expected(p) == K_PROBE && !strcmp(tag, ST(p).probe_tag))
    {
      /* our NOOP's completion: the backend answered everything before it */
      int ok = len >= strlen(tag) + 4 && !strncasecmp(line + strlen(tag) + 1, "OK", 2) ;
      proxy_reply_done(p) ;
      ST(p).probe_tag[0] = 0 ;
      proxy_tls_proven(p, ok ? 0 : "the backend did not complete the proxy's NOOP with OK") ;
      return ;
    }
    emit_response(p, line, len) ;
    if (get_tag(line, len, tag))
    {
      if (!tag_done(p, tag))
      {
        /* a completion for a command never forwarded: the backend does not frame as we do */
        if (proxy_desync(p, "a tagged reply to no command forwarded")) { proxy_say(p, "* BYE backend out of step\r\n") ; proxy_close(p) ; }
        return ;
      }
      proxy_reply_done(p) ;
      if (ST(p).client_raw != RAW_NONE && !strcmp(tag, ST(p).raw_tag))
      {
        ST(p).client_raw = RAW_NONE ;
        proxy_client_resume(p) ;
      }
      if (ST(p).sync_wait && !strcmp(tag, ST(p).sync_tag))
      {
        /* the command was refused before its literal: the client will not send it */
        ST(p).sync_wait = 0 ;
        ST(p).client_cont = 0 ;
        proxy_client_resume(p) ;
      }
    }
  }
  if (!piece && literal_at_end(line, len, &n, &sync)) { proxy_backend_literal(p, n) ; ST(p).backend_cont = 1 ; }
}

static void backend_gone (proxy *p)
{
  proxy_say(p, "* BYE Service not available\r\n") ;
}

static void idle_timeout (proxy *p)
{
  proxy_say(p, "* BYE Idle timeout, closing connection\r\n") ;
}

static void start (proxy *p)
{
  proxy_expect(p, K_GREETING) ;
}

static void finish (proxy *p)
{
  stralloc_free(&ST(p).out) ;
  stralloc_free(&ST(p).tags) ;
}

void imap_protocol (proxy_protocol *proto, size_t line_max)
{
  proto->name = "imap" ;
  proto->client_line_max = line_max ;
  proto->backend_line_max = 65536 ;
  proto->client_line = client_line ;
  proto->client_bad_line = client_bad_line ;
  proto->client_stream = 0 ;
  proto->backend_line = backend_line ;
  proto->idle_timeout = idle_timeout ;
  proto->backend_gone = backend_gone ;
  proto->tls_started = 0 ;
  proto->start = start ;
  proto->finish = finish ;
  proto->state_size = sizeof(imap_state) ;
  proto->tls_verb = "STARTTLS" ;
  proto->tls_answer = tls_answer ;
  proto->tls_probe = tls_probe ;
}

/* smtp.c: the SMTP rules of smtpd-starttls (RFC 3207, RFC 5321, RFC 2920 pipelining).
   The proxy owns STARTTLS: it advertises it in EHLO replies exactly while TLS
   can start, answers STARTTLS itself, and never lets one reach the backend.
   It stays in the conversation after TLS as a thin filter, so that the
   backend's own STARTTLS keyword never reaches the client and a second
   STARTTLS is refused; every other byte passes untouched. */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "smtp.h"

enum reply_kind {
  K_GREETING,     /* the banner */
  K_PLAIN,        /* forwarded as it is */
  K_EHLO,         /* keywords rewritten */
  K_DATA,         /* 354 starts the message body */
  K_AUTH,         /* 334 means the next client line is a SASL response */
  K_TLS_RSET      /* the RSET sent before 220 Ready: never shown to the client */
} ;

#define EHLO_REPLY_MAX 65536
#define JUNK_MAX 100    /* commands outside a mail transaction, between two MAILs */

/* The per-session state: the framework allocates it zeroed (state_size)
   and hands it to every callback through proxy_state(p). */
typedef struct smtp_state_s {
  stralloc ehlo ;        /* the EHLO reply being collected */
  int in_piece ;         /* the previous backend line was cut (no LF): this one continues it */
  int piece_final ;      /* that cut line is a final reply line */
  char piece_code[3] ;   /* the reply code of the line being cut into pieces */
  int chunking ;         /* the backend's last EHLO reply listed CHUNKING: BDAT may reach it */
  int body_cr ;          /* message body: the last byte was a CR, not yet known to be bare */
  int body_line ;        /* message body: the current line so far is 0 empty, 1 ".", 2 anything else; 3 the body ended */
  int body_verbatim ;    /* message body inside TLS: untouched, vb_* track its end */
  int vb_at_start ;
  unsigned int vb_dot ;
  int vb_cr ;
  int body_clean ;       /* message body: the current line began after CRLF (or at the body's start) */
  int sasl ;             /* the backend said 334: the next client line is a SASL response */
  int rset_failed ;      /* the RSET before 220 Ready got an error */
  unsigned int junk ;    /* commands since the last MAIL that carry no mail (NOOP, RSET, EHLO, VRFY...) */
} smtp_state ;

#define ST(p) (*(smtp_state *)proxy_state(p))

/* The command verb, case-insensitively: 1 if line starts with verb followed by space, CR, LF or end. */
static int is_verb (char const *line, size_t len, char const *verb)
{
  size_t n = strlen(verb) ;
  if (len < n || strncasecmp(line, verb, n)) return 0 ;
  return len == n || line[n] == ' ' || line[n] == '\r' || line[n] == '\n' ;
}

/* Does the command have anything after its verb (besides spaces and the line end)? */
static int has_args (char const *line, size_t len, size_t verblen)
{
  for (size_t i = verblen ; i < len ; i++)
    if (line[i] != ' ' && line[i] != '\r' && line[i] != '\n' && line[i] != '\t') return 1 ;
  return 0 ;
}

static void forward (proxy *p, char const *line, size_t len, int kind)
{
  proxy_to_backend(p, line, len) ;
  proxy_expect(p, kind) ;
}


/* BDAT size [LAST] (RFC 3030): the size bytes after the line are message
   data, never commands. Strict grammar: "BDAT" SP 1*9DIGIT [SP "LAST"] CRLF,
   so that every server reads the same size; returns 0 if it is not that. */
static int bdat_size (char const *line, size_t len, uint64_t *size)
{
  uint64_t n = 0 ;
  size_t i = 5, d ;
  if (len < 8 || line[4] != ' ') return 0 ;
  for (d = 0 ; i < len && line[i] >= '0' && line[i] <= '9' ; i++, d++) n = n * 10 + (uint64_t)(line[i] - '0') ;
  if (!d || d > 9) return 0 ;  /* 32-bit parsers (Exim's %u) would wrap a longer size */
  if (len - i == 7 && !strncasecmp(line + i, " LAST\r\n", 7)) i += 5 ;
  if (len - i != 2) return 0 ;
  *size = n ;
  return 1 ;
}

/* The chunk of a BDAT that cannot be forwarded is dropped with the line; a
   BDAT whose size cannot be read leaves no way to tell its data from
   commands: the session ends. */
static proxy_verdict bdat_refuse (proxy *p, char const *line, size_t len, char const *reply)
{
  uint64_t n ;
  if (proxy_pending(p)) return PROXY_WAIT ;
  if (!bdat_size(line, len, &n))
  {
    proxy_log(p, 1, "malformed BDAT: its data cannot be told from commands; closing", 0, 0) ;
    proxy_say(p, "421 4.5.2 Syntax error in BDAT, closing connection\r\n") ;
    proxy_close(p) ;
    return PROXY_TAKEN ;
  }
  proxy_say(p, reply) ;
  proxy_client_discard(p, n) ;
  return PROXY_TAKEN ;
}

/* STARTTLS is decided by the framework (proxy_tls_request); these are its
   SMTP words, and the proof that the backend is at a command boundary: an
   RSET, which also clears its transaction state, must get its own 2xx. */
static void tls_answer (proxy *p, proxy_tls_answer what)
{
  static char const *const text[] = {
    [PROXY_TLS_ALREADY] = "503 5.5.1 TLS is already active\r\n",
    [PROXY_TLS_ARGS] = "501 5.5.4 Syntax error: STARTTLS takes no parameters\r\n",
    [PROXY_TLS_UNAVAILABLE] = "454 4.7.0 TLS not available\r\n",
    [PROXY_TLS_INJECTION] = "421 4.7.0 STARTTLS must be the last command of a pipeline; closing connection\r\n",
    [PROXY_TLS_PROBE_FAILED] = "454 4.7.0 TLS not available due to temporary reason\r\n",
    [PROXY_TLS_ACCEPT] = "220 2.0.0 Ready to start TLS\r\n",
  } ;
  proxy_say(p, text[what]) ;
}

static void tls_probe (proxy *p)
{
  proxy_to_backend(p, "RSET\r\n", 6) ;
  proxy_expect(p, K_TLS_RSET) ;
}

static int verb_in (char const *line, size_t len, char const *const *verbs)
{
  for (; *verbs ; verbs++) if (is_verb(line, len, *verbs)) return 1 ;
  return 0 ;
}

/* Under -T, before TLS: what carries neither mail nor credentials. */
static int allowed_before_tls (char const *line, size_t len)
{
  static char const *const verbs[] = { "EHLO", "HELO", "NOOP", "RSET", "QUIT", 0 } ;
  return verb_in(line, len, verbs) ;
}

/* Without -T, before TLS: what leaves no state behind for the session
   inside TLS. Anything else (HELO, MAIL, AUTH, XCLIENT, XFORWARD, an
   unknown verb...) commits the session to cleartext. */
static int keeps_tls (char const *line, size_t len)
{
  static char const *const verbs[] = { "EHLO", "NOOP", "RSET", "QUIT", "HELP", "VRFY", "EXPN", 0 } ;
  return verb_in(line, len, verbs) ;
}

/* Everything but a mail transaction's verbs counts against JUNK_MAX: a
   keep-alive loop (NOOP, RSET, HELP, refused commands...) would otherwise
   hold the session and its backend for ever. MAIL starts the count again. */
static int is_junk (char const *line, size_t len)
{
  return !is_verb(line, len, "MAIL") && !is_verb(line, len, "RCPT") && !is_verb(line, len, "DATA") && !is_verb(line, len, "BDAT") ;
}

static void too_much_junk (proxy *p)
{
  proxy_log(p, 1, "too many commands without a mail transaction: closing", 0, 0) ;
  proxy_say(p, "421 4.7.0 Too many commands without mail, closing connection\r\n") ;
  proxy_close(p) ;
}

static proxy_verdict handle_line (proxy *p, char const *line, size_t len)
{
  if (ST(p).sasl)
  {
    /* A SASL response (RFC 4954): credentials, whatever they look like,
       but framed like a command: with a bare CR or LF it would be one line
       to us and two to some backends. The exchange is cancelled instead. */
    ST(p).sasl = 0 ;
    if (proxy_crlf_line(line, len)) forward(p, line, len, K_AUTH) ;
    else
    {
      proxy_log(p, 1, "SASL response with a bare CR or LF: exchange cancelled", 0, 0) ;
      forward(p, "*\r\n", 3, K_AUTH) ;
    }
    proxy_client_hold(p) ;
    return PROXY_TAKEN ;
  }
  if (!proxy_crlf_line(line, len))
  {
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_log(p, 1, "refused a command line with a bare CR or LF", 0, 0) ;
    proxy_say(p, "500 5.5.2 Syntax error: command lines end in CRLF and hold no other CR or LF\r\n") ;
    if (is_verb(line, len, "BDAT"))
    {
      /* its chunk, if any, cannot be told from commands */
      proxy_say(p, "421 4.5.2 Closing connection\r\n") ;
      proxy_close(p) ;
    }
    return PROXY_TAKEN ;
  }
  if (proxy_cleartext_strict(p) && !proxy_plain_line(line, len, PROXY_PLAIN_CTL))
  {
    /* "AUTH<HT>PLAIN" is AUTH to a server that splits on blanks and no
       verb of ours: a line whose words some server reads otherwise */
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_log(p, 1, "refused a command line with a control byte or a leading blank", 0, 0) ;
    proxy_say(p, "500 5.5.2 Syntax error: control byte or leading blank in command\r\n") ;
    return PROXY_TAKEN ;
  }
  if (is_junk(line, len) && ST(p).junk >= JUNK_MAX)
  {
    if (proxy_pending(p)) return PROXY_WAIT ;
    too_much_junk(p) ;
    return PROXY_TAKEN ;
  }
  if (is_verb(line, len, "STARTTLS")) return proxy_tls_request(p, has_args(line, len, 8)) ;
  /* BDAT's chunk follows its line without waiting for the reply (RFC 3030):
     it is data, refused with the line. */
  if (is_verb(line, len, "BDAT") && !proxy_tls_active(p) && proxy_require_tls(p))
    return bdat_refuse(p, line, len, "530 5.7.0 Must issue a STARTTLS command first\r\n") ;
  if (is_verb(line, len, "BDAT") && !ST(p).chunking)
  {
    /* A backend that did not offer CHUNKING would run the chunk as commands. */
    proxy_log(p, 2, "BDAT refused: the backend did not advertise CHUNKING", 0, 0) ;
    return bdat_refuse(p, line, len, "502 5.5.1 BDAT not available\r\n") ;
  }
  if (!proxy_tls_active(p) && proxy_require_tls(p) && !allowed_before_tls(line, len))
  {
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_log(p, 2, "command refused before STARTTLS (-T)", 0, 0) ;
    proxy_say(p, "530 5.7.0 Must issue a STARTTLS command first\r\n") ;
    return PROXY_TAKEN ;
  }
  /* These commit the session to cleartext: the controller's engine is not needed. */
  if (!proxy_require_tls(p) && proxy_cleartext_strict(p) && !keeps_tls(line, len))
    proxy_decline(p) ;
  if (proxy_cleartext_strict(p) && len > SMTP_PLAIN_LINE_MAX)
  {
    /* A server that cuts a long line (Exim at 16384 bytes, sendmail at
       2048) runs its rest as another command: before TLS only lines that
       every server reads whole (RFC 5321's 512 octets) are forwarded. */
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_log(p, 1, "refused a command line longer than 512 octets before TLS", 0, 0) ;
    proxy_say(p, "500 5.5.2 Syntax error: line too long\r\n") ;
    return PROXY_TAKEN ;
  }
  if (is_verb(line, len, "EHLO") || is_verb(line, len, "HELO")) ST(p).chunking = 0 ;  /* until the reply says */
  if (is_verb(line, len, "EHLO")) forward(p, line, len, K_EHLO) ;
  else if (is_verb(line, len, "AUTH"))
  {
    /* Until AUTH's reply, nothing is a command: a 334 makes the next line a SASL response. */
    forward(p, line, len, K_AUTH) ;
    proxy_client_hold(p) ;
  }
  else if (is_verb(line, len, "DATA"))
  {
    /* The body must wait for 354: until then nothing more is read as a command. */
    forward(p, line, len, K_DATA) ;
    proxy_client_hold(p) ;
  }
  else if (is_verb(line, len, "BDAT"))
  {
    uint64_t n ;
    if (!bdat_size(line, len, &n)) return bdat_refuse(p, line, len, 0) ;
    forward(p, line, len, K_PLAIN) ;
    proxy_client_literal(p, n) ;
  }
  else forward(p, line, len, K_PLAIN) ;
  return PROXY_TAKEN ;
}

static proxy_verdict client_line (proxy *p, char const *line, size_t len)
{
  int sasl = ST(p).sasl ;
  proxy_verdict v ;
  if (!sasl) proxy_trace(p, line, len, 0) ;
  v = handle_line(p, line, len) ;
  if (v != PROXY_TAKEN) return v ;
  if (sasl) proxy_log(p, 2, "SASL response (not shown)", 0, 0) ;
  else
  {
    if (is_verb(line, len, "MAIL")) ST(p).junk = 0 ;
    else if (is_junk(line, len)) ST(p).junk++ ;
  }
  return v ;
}

static proxy_verdict client_bad_line (proxy *p, proxy_badline why, char const *line, size_t len)
{
  (void)line ; (void)len ;
  if (proxy_pending(p)) return PROXY_WAIT ;
  if (ST(p).junk++ >= JUNK_MAX) { too_much_junk(p) ; return PROXY_TAKEN ; }
  if (why == PROXY_LINE_NUL)
  {
    proxy_log(p, 1, "refused a command line holding a NUL byte", 0, 0) ;
    proxy_say(p, "500 5.5.2 Syntax error: NUL byte in command\r\n") ;
  }
  else
  {
    proxy_log(p, 1, "refused an overlong command line", 0, 0) ;
    proxy_say(p, "500 5.5.2 Syntax error: line too long\r\n") ;
  }
  return PROXY_TAKEN ;
}

/* The message body before TLS, until CRLF "." CRLF (RFC 5321 4.1.1.4) and
   nothing else, forwarded normalised so that every server ends it there too (the
   SMTP smuggling family: servers disagree on what a bare LF or CR means
   around a final dot): a bare LF or bare CR ends its line as CRLF, and a
   line "." that touches one is forwarded dot-stuffed ("..", the content
   ".") instead of ending the body. Returns the bytes consumed; a lone "."
   at a line start is held back until its line end shows what it is. */
static void body_eol (proxy *p, int crlf)
{
  if (ST(p).body_line == 1)
  {
    if (crlf && ST(p).body_clean) { proxy_to_backend(p, ".\r\n", 3) ; proxy_client_lines(p) ; ST(p).body_line = 3 ; return ; }
    proxy_to_backend(p, "..", 2) ;
  }
  proxy_to_backend(p, "\r\n", 2) ;
  ST(p).body_line = 0 ;
  ST(p).body_clean = crlf ;
}

/* Inside TLS the body passes untouched (doc/guarantees.md), as it does when
   the direct handoff took the proxy out of the path: scanned for CRLF.CRLF
   only. Returns the bytes that belong to it, terminator included, which the
   caller forwards. */
static size_t body_verbatim (proxy *p, char const *buf, size_t len)
{
  static char const end[] = ".\r\n" ;
  size_t i = 0 ;
  while (i < len)
  {
    if (ST(p).vb_at_start)
    {
      if (buf[i] == end[ST(p).vb_dot])
      {
        i++ ;
        if (++ST(p).vb_dot == 3) { proxy_client_lines(p) ; return i ; }
        continue ;
      }
      ST(p).vb_at_start = 0 ;
      ST(p).vb_dot = 0 ;
      ST(p).vb_cr = 0 ;
      continue ;  /* this byte is ordinary: look at it again below */
    }
    {
      char const *lf = memchr(buf + i, '\n', len - i) ;
      if (!lf) { ST(p).vb_cr = buf[len - 1] == '\r' ; return len ; }
      ST(p).vb_at_start = lf > buf + i ? lf[-1] == '\r' : ST(p).vb_cr ;
      ST(p).vb_dot = 0 ;
      ST(p).vb_cr = 0 ;
      i = (size_t)(lf - buf) + 1 ;
    }
  }
  return len ;
}

static size_t client_stream (proxy *p, char const *buf, size_t len)
{
  size_t i = 0 ;
  if (ST(p).body_verbatim)
  {
    size_t n = body_verbatim(p, buf, len) ;
    proxy_to_backend(p, buf, n) ;
    return n ;
  }
  while (i < len)
  {
    if (ST(p).body_cr)
    {
      /* the CR before this byte ended a line: with this LF, or bare */
      int crlf = buf[i] == '\n' ;
      ST(p).body_cr = 0 ;
      i += crlf ;
      body_eol(p, crlf) ;
      if (ST(p).body_line == 3) return i ;
      continue ;
    }
    if (buf[i] == '\r') { ST(p).body_cr = 1 ; i++ ; continue ; }
    if (buf[i] == '\n')
    {
      i++ ;
      body_eol(p, 0) ;
      continue ;
    }
    {
      size_t j = i ;
      while (j < len && buf[j] != '\r' && buf[j] != '\n') j++ ;
      if (!ST(p).body_line && j - i == 1 && buf[i] == '.') ST(p).body_line = 1 ;  /* held back */
      else
      {
        if (ST(p).body_line == 1) proxy_to_backend(p, ".", 1) ;
        ST(p).body_line = 2 ;
        proxy_to_backend(p, buf + i, j - i) ;
      }
      i = j ;
    }
  }
  return len ;
}

/* Is keyword (the text after "250-" or "250 ") the one named? */
static int ehlo_keyword (char const *text, size_t len, char const *kw)
{
  size_t n = strlen(kw) ;
  if (len < n || strncasecmp(text, kw, n)) return 0 ;
  return len == n || text[n] == ' ' || text[n] == '=' || text[n] == '\r' || text[n] == '\n' ;
}

/* Length of the line at r[pos] (through its LF, or to the end). */
static size_t line_at (char const *r, size_t len, size_t pos)
{
  char const *lf = memchr(r + pos, '\n', len - pos) ;
  return lf ? (size_t)(lf - (r + pos)) + 1 : len - pos ;
}

/* Does an EHLO reply line stay? The first one (the greeting) always does. */
static int ehlo_keeps (char const *line, size_t l, int first, int hide_auth)
{
  char const *text = line + 4 ;
  size_t tlen = l >= 4 ? l - 4 : 0 ;
  if (first) return 1 ;
  if (ehlo_keyword(text, tlen, "STARTTLS")) return 0 ;
  return !(hide_auth && ehlo_keyword(text, tlen, "AUTH")) ;
}

/* Writes one kept line with the separator set: '-' unless it is the laST(p). */
static void emit_ehlo_line (proxy *p, char const *line, size_t l, int last)
{
  /* "250-text", "250 text", or a bare "250\r\n" */
  size_t text = l > 3 && (line[3] == '-' || line[3] == ' ') ? 4 : 3 ;
  proxy_to_client(p, line, 3) ;
  proxy_to_client(p, last ? " " : "-", 1) ;
  if (l > text) proxy_to_client(p, line + text, l - text) ;
  else proxy_say(p, "\r\n") ;
}

/* Is every line of the reply at least a code ("250", then LF or more)? A
   reply that is not goes as it is, never rewritten (it cannot be read). */
static int ehlo_well_formed (char const *r, size_t len)
{
  for (size_t pos = 0, l ; pos < len ; pos += l)
  {
    l = line_at(r, len, pos) ;
    if (l < 4) return 0 ;
  }
  return 1 ;
}

/* Re-emits a complete 2xx EHLO reply: the backend's STARTTLS goes (and its
   AUTH too, before TLS under -T); ours is added, last, while TLS can start.
   Two passes: the first counts the lines that stay, so the second knows
   which one is laST(p). */
static void emit_ehlo (proxy *p, char const *r, size_t len)
{
  int tls_ok = proxy_tls_available(p) ;
  int hide_auth = proxy_require_tls(p) && !proxy_tls_active(p) ;
  size_t kept = 0, done = 0, pos, l ;
  int offers = 0 ;
  for (pos = 0 ; pos < len ; pos += l)
  {
    l = line_at(r, len, pos) ;
    kept += ehlo_keeps(r + pos, l, !pos, hide_auth) ;
    if (pos && l >= 4 && ehlo_keyword(r + pos + 4, l - 4, "STARTTLS")) offers = 1 ;
    if (pos && l >= 4 && ehlo_keyword(r + pos + 4, l - 4, "CHUNKING")) ST(p).chunking = 1 ;
  }
  proxy_backend_capabilities(p, offers) ;
  for (pos = 0 ; pos < len ; pos += l)
  {
    l = line_at(r, len, pos) ;
    if (!ehlo_keeps(r + pos, l, !pos, hide_auth)) continue ;
    done++ ;
    emit_ehlo_line(p, r + pos, l, done == kept && !tls_ok) ;
  }
  if (tls_ok)
  {
    proxy_to_client(p, r, 3) ;
    proxy_say(p, " STARTTLS\r\n") ;
  }
}

static void backend_line (proxy *p, char const *line, size_t len)
{
  /* A line longer than the limit comes in pieces: its first piece says whether it is final. */
  int piece = len && line[len - 1] != '\n' ;
  int cont = ST(p).in_piece ;
  int final ;
  int kind = proxy_expected(p) ;
  if (!cont)
  {
    ST(p).piece_final = !(len >= 4 && line[3] == '-') ;
    memcpy(ST(p).piece_code, line, len >= 3 ? 3 : len) ;
    if (len < 3) memset(ST(p).piece_code + len, 0, 3 - len) ;
  }
  final = !piece && ST(p).piece_final ;
  ST(p).in_piece = piece ;
  switch (kind)
  {
    case K_EHLO :
      if (ST(p).ehlo.len + len > EHLO_REPLY_MAX)
      {
        /* absurd: give up rewriting, the session cannot be trusted with STARTTLS */
        proxy_log(p, 1, "the backend's EHLO reply is too long", 0, 0) ;
        proxy_say(p, "421 4.3.0 Backend error, closing connection\r\n") ;
        proxy_close(p) ;
        break ;
      }
      ust_catb(&ST(p).ehlo, line, len) ;
      if (!final) break ;
      ST(p).chunking = 0 ;
      if (ST(p).ehlo.s[0] == '2' && ehlo_well_formed(ST(p).ehlo.s, ST(p).ehlo.len)) emit_ehlo(p, ST(p).ehlo.s, ST(p).ehlo.len) ;
      else proxy_to_client(p, ST(p).ehlo.s, ST(p).ehlo.len) ;  /* an error reply goes as it is */
      ST(p).ehlo.len = 0 ;
      proxy_reply_done(p) ;
      break ;
    case K_TLS_RSET :
      if (!cont) ST(p).rset_failed = line[0] != '2' ;
      if (!final) break ;
      proxy_reply_done(p) ;
      /* a backend that could not reset its state: TLS must not start on top of it */
      proxy_tls_proven(p, ST(p).rset_failed ? "the backend did not accept RSET" : 0) ;
      break ;
    case K_AUTH :
      proxy_to_client(p, line, len) ;
      if (!final) break ;
      proxy_reply_done(p) ;
      proxy_client_resume(p) ;
      ST(p).sasl = !memcmp(ST(p).piece_code, "334", 3) ;  /* the code of the line's first piece */
      break ;
    case K_DATA :
      proxy_to_client(p, line, len) ;
      if (!final) break ;
      proxy_reply_done(p) ;
      proxy_client_resume(p) ;
      if (!memcmp(ST(p).piece_code, "354", 3))
      {
        proxy_expect(p, K_PLAIN) ;  /* the reply to the message, after its final dot */
        ST(p).body_line = 0 ; ST(p).body_cr = 0 ; ST(p).body_clean = 1 ;
        ST(p).body_verbatim = proxy_tls_active(p) ;
        ST(p).vb_at_start = 1 ; ST(p).vb_dot = 0 ; ST(p).vb_cr = 0 ;
        proxy_client_stream(p) ;
      }
      break ;
    default :
      proxy_to_client(p, line, len) ;
      if (kind < 0 && !cont && proxy_desync(p, "a reply no command awaited"))
      {
        proxy_say(p, "421 4.7.0 Backend out of step, closing connection\r\n") ;
        proxy_close(p) ;
        break ;
      }
      if (final && kind >= 0) proxy_reply_done(p) ;
  }
}

static void backend_gone (proxy *p)
{
  proxy_say(p, "421 4.3.2 Service not available, closing connection\r\n") ;
}

static void idle_timeout (proxy *p)
{
  proxy_say(p, "421 4.4.2 Idle timeout, closing connection\r\n") ;
}

static void tls_started (proxy *p, tlsinfo const *info)
{
  (void)info ;
  ST(p).chunking = 0 ;  /* the client must say EHLO again, and the backend answer it */
  proxy_log(p, 2, "TLS started: the client must say EHLO again", 0, 0) ;
}

static void start (proxy *p)
{
  proxy_expect(p, K_GREETING) ;  /* nothing is answered locally before the banner */
}

static void finish (proxy *p)
{
  stralloc_free(&ST(p).ehlo) ;
}

void smtp_protocol (proxy_protocol *proto, size_t line_max)
{
  proto->name = "smtp" ;
  proto->client_line_max = line_max ;
  proto->backend_line_max = 4096 ;
  proto->client_line = client_line ;
  proto->client_bad_line = client_bad_line ;
  proto->client_stream = client_stream ;
  proto->backend_line = backend_line ;
  proto->idle_timeout = idle_timeout ;
  proto->backend_gone = backend_gone ;
  proto->tls_started = tls_started ;
  proto->start = start ;
  proto->finish = finish ;
  proto->state_size = sizeof(smtp_state) ;
  proto->tls_verb = "STARTTLS" ;
  proto->tls_answer = tls_answer ;
  proto->tls_probe = tls_probe ;
}

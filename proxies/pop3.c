/* pop3.c: the POP3 rules of pop3d-starttls (RFC 1939, RFC 2449, RFC 2595, RFC 5034).
   STLS belongs to the proxy: listed in every CAPA reply while TLS can start
   (a backend without CAPA gets a CAPA answer from the proxy), a backend's own
   STLS never passes, and with -T the commands that carry credentials are
   refused until TLS. Multi-line replies pass whole, dot-stuffing untouched. */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "pop3.h"

enum reply_kind {
  K_GREETING,
  K_SINGLE,   /* one status line */
  K_MULTI,    /* multi-line when +OK: through the "." line */
  K_CAPA,     /* multi-line, rewritten */
  K_AUTH      /* SASL: "+ " challenges until +OK or -ERR */
} ;

#define CAPA_REPLY_MAX 65536

/* The per-session state: the framework allocates it zeroed (state_size)
   and hands it to every callback through proxy_state(p). */
typedef struct pop3_state_s {
  int in_multi ;       /* inside a multi-line reply */
  int piece ;          /* the previous backend chunk had no LF */
  int auth_raw ;       /* AUTH runs: the client is held until the backend's "+ " (then one
                          line of SASL data passes) or its final reply */
  int line_final ;     /* the backend line being read (maybe in pieces) ends its reply */
  stralloc capa ;      /* the CAPA reply being collected */
} pop3_state ;

#define ST(p) (*(pop3_state *)proxy_state(p))

static int verb_is (char const *line, size_t len, char const *verb)
{
  size_t n = strlen(verb) ;
  return len >= n && !strncasecmp(line, verb, n) && (len == n || line[n] == ' ' || line[n] == '\r' || line[n] == '\n') ;
}

static int has_args (char const *line, size_t len)
{
  size_t i = 0 ;
  while (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n') i++ ;
  for (; i < len ; i++) if (line[i] != ' ' && line[i] != '\r' && line[i] != '\n') return 1 ;
  return 0 ;
}

/* Before TLS, while framing matters (proxy_cleartext_strict), the commands
   that pass: those of the AUTHORIZATION state that carry no credentials,
   alone on their line, which every server reads alike. */
static int allowed_before_tls (char const *line, size_t len)
{
  static char const *const bare[] = { "CAPA\r\n", "NOOP\r\n", "QUIT\r\n", 0 } ;
  if (!proxy_plain_line(line, len, PROXY_PLAIN_WORDS)) return 0 ;
  for (char const *const *w = bare ; *w ; w++)
    if (len == strlen(*w) && !strncasecmp(line, *w, len)) return 1 ;
  return 0 ;
}

static proxy_verdict answer (proxy *p, char const *reply)
{
  if (proxy_pending(p)) return PROXY_WAIT ;
  proxy_say(p, reply) ;
  return PROXY_TAKEN ;
}

/* STLS is decided by the framework (proxy_tls_request); these are its POP3
   words. No probe: POP3 replies carry no tag, so the reply to a command of
   our own could not be told from a stale one; the allow-list before TLS
   and the count of replies are the proof. */
static void tls_answer (proxy *p, proxy_tls_answer what)
{
  static char const *const text[] = {
    [PROXY_TLS_ALREADY] = "-ERR TLS is already active\r\n",
    [PROXY_TLS_ARGS] = "-ERR STLS takes no arguments\r\n",
    [PROXY_TLS_UNAVAILABLE] = "-ERR TLS not available\r\n",
    [PROXY_TLS_INJECTION] = "-ERR STLS must be the last command of a pipeline; closing connection\r\n",
    [PROXY_TLS_PROBE_FAILED] = "-ERR TLS not available\r\n",
    [PROXY_TLS_ACCEPT] = "+OK Begin TLS negotiation\r\n",
  } ;
  proxy_say(p, text[what]) ;
}

static proxy_verdict handle_line (proxy *p, char const *line, size_t len)
{
  int args = has_args(line, len) ;
  int kind = K_SINGLE ;
  if (ST(p).auth_raw)
  {
    /* one line of SASL data per "+ " challenge; nothing more until the next */
    proxy_to_backend(p, line, len) ;
    proxy_client_hold(p) ;
    return PROXY_TAKEN ;
  }
  if (!proxy_crlf_line(line, len))
  {
    if (proxy_pending(p)) return PROXY_WAIT ;
    proxy_log(p, 1, "refused a command line with a bare CR or LF", 0, 0) ;
    return answer(p, "-ERR command lines end in CRLF and hold no other CR or LF\r\n") ;
  }
  if (verb_is(line, len, "STLS")) return proxy_tls_request(p, args) ;
  if (proxy_cleartext_strict(p) && !allowed_before_tls(line, len))
  {
    if (proxy_require_tls(p))
    {
      proxy_log(p, 2, "command refused before STLS (-T)", 0, 0) ;
      return answer(p, "-ERR Must issue STLS first\r\n") ;
    }
    /* credentials in cleartext, or a line some server would frame
       otherwise: the session is committed to cleartext */
    proxy_decline(p) ;
  }
  if (verb_is(line, len, "CAPA")) kind = K_CAPA ;
  else if (verb_is(line, len, "RETR") || verb_is(line, len, "TOP")) kind = K_MULTI ;
  else if ((verb_is(line, len, "LIST") || verb_is(line, len, "UIDL") || verb_is(line, len, "AUTH")) && !args) kind = K_MULTI ;
  else if (verb_is(line, len, "AUTH"))
  {
    kind = K_AUTH ;
    ST(p).auth_raw = 1 ;
    proxy_client_line_max(p, POP3_SASL_LINE_MAX) ;
    proxy_client_hold(p) ;  /* SASL data only after the backend's "+ " */
  }
  proxy_to_backend(p, line, len) ;
  proxy_expect(p, kind) ;
  return PROXY_TAKEN ;
}

static proxy_verdict client_line (proxy *p, char const *line, size_t len)
{
  if (!ST(p).auth_raw) proxy_trace(p, line, len, 0) ;
  return handle_line(p, line, len) ;
}

static proxy_verdict client_bad_line (proxy *p, proxy_badline why, char const *line, size_t len)
{
  (void)line ; (void)len ;
  if (proxy_pending(p)) return PROXY_WAIT ;
  proxy_log(p, 1, why == PROXY_LINE_NUL ? "refused a command line holding a NUL byte" : "refused an overlong command line", 0, 0) ;
  proxy_say(p, why == PROXY_LINE_NUL ? "-ERR NUL byte in command\r\n" : "-ERR line too long\r\n") ;
  return PROXY_TAKEN ;
}

/* Emits the collected CAPA reply without the backend's STLS, with ours while
   TLS can start; under -T before TLS without USER and SASL either, which
   would be refused: only what will be accepted is advertised. */
static void emit_capa (proxy *p)
{
  size_t pos = 0 ;
  int offers = 0 ;
  int hide_auth = proxy_require_tls(p) && !proxy_tls_active(p) ;
  while (pos < ST(p).capa.len)
  {
    char const *l = ST(p).capa.s + pos ;
    char const *lf = memchr(l, '\n', ST(p).capa.len - pos) ;
    size_t n = lf ? (size_t)(lf - l) + 1 : ST(p).capa.len - pos ;
    int last = n >= 2 && l[0] == '.' && (l[1] == '\r' || l[1] == '\n') ;
    if (last && proxy_tls_available(p)) proxy_say(p, "STLS\r\n") ;
    if (pos && verb_is(l, n, "STLS")) offers = 1 ;
    else if (!(pos && hide_auth && (verb_is(l, n, "USER") || verb_is(l, n, "SASL")))) proxy_to_client(p, l, n) ;
    pos += n ;
  }
  proxy_backend_capabilities(p, offers) ;
}

static int is_end (char const *line, size_t len)
{
  return (len == 3 && !memcmp(line, ".\r\n", 3)) || (len == 2 && !memcmp(line, ".\n", 2)) ;
}

static void backend_line (proxy *p, char const *line, size_t len)
{
  int cont = ST(p).piece ;
  int kind = proxy_expected(p) ;
  ST(p).piece = len && line[len - 1] != '\n' ;
  if (!cont && !ST(p).in_multi && kind >= 0 && kind != K_AUTH && len >= 2 && line[0] == '+' && line[1] == ' '
      && proxy_desync(p, "a SASL challenge to a command that is no AUTH"))
  {
    /* the backend runs an exchange the proxy did not frame as one */
    proxy_say(p, "-ERR backend out of step, closing connection\r\n") ;
    proxy_close(p) ;
    return ;
  }
  if (kind == K_CAPA && (ST(p).in_multi || (!cont && len >= 3 && !strncmp(line, "+OK", 3))))
  {
    ST(p).in_multi = 1 ;
    if (ST(p).capa.len + len > CAPA_REPLY_MAX)
    {
      /* absurd, and held in memory: give up, as smtp.c does with EHLO */
      proxy_log(p, 1, "the backend's CAPA reply is too long", 0, 0) ;
      proxy_say(p, "-ERR Backend error, closing connection\r\n") ;
      proxy_close(p) ;
      return ;
    }
    ust_catb(&ST(p).capa, line, len) ;
    if (cont || !is_end(line, len)) return ;
    emit_capa(p) ;
    ST(p).capa.len = 0 ;
    ST(p).in_multi = 0 ;
    proxy_reply_done(p) ;
    return ;
  }
  if (kind == K_CAPA && !cont && proxy_tls_available(p))
  {
    /* The backend has no CAPA: the client still learns of STLS (RFC 2595). */
    proxy_say(p, "+OK Capability list follows\r\nSTLS\r\n.\r\n") ;
    proxy_reply_done(p) ;
    return ;
  }
  proxy_to_client(p, line, len) ;
  if (kind < 0)
  {
    /* a reply no command awaited: the backend frames otherwise than we do */
    if (!cont && proxy_desync(p, "a reply no command awaited"))
    {
      proxy_say(p, "-ERR backend out of step, closing connection\r\n") ;
      proxy_close(p) ;
    }
    return ;
  }
  if (!cont)
  {
    /* what this line is, from its start: a line over the limit comes in pieces */
    ST(p).line_final = 1 ;
    if (kind == K_MULTI)
    {
      if (!ST(p).in_multi && len >= 3 && !strncmp(line, "+OK", 3)) { ST(p).in_multi = 1 ; ST(p).line_final = 0 ; }
      else if (ST(p).in_multi && !is_end(line, len)) ST(p).line_final = 0 ;
    }
    else if (kind == K_AUTH && len >= 2 && line[0] == '+' && line[1] == ' ')
    {
      ST(p).line_final = 0 ;
      if (!ST(p).piece) proxy_client_resume(p) ;  /* a challenge: one line of SASL data may come */
    }
  }
  else if (kind == K_AUTH && !ST(p).line_final && !ST(p).piece) proxy_client_resume(p) ;
  if (ST(p).piece || !ST(p).line_final) return ;
  if (kind == K_MULTI) ST(p).in_multi = 0 ;
  if (kind == K_AUTH)
  {
    ST(p).auth_raw = 0 ;
    proxy_client_line_max(p, 0) ;
    proxy_client_resume(p) ;
  }
  proxy_reply_done(p) ;
}

static void backend_gone (proxy *p)
{
  proxy_say(p, "-ERR Service not available\r\n") ;
}

static void idle_timeout (proxy *p)
{
  proxy_say(p, "-ERR Idle timeout, closing connection\r\n") ;
}

static void start (proxy *p)
{
  proxy_expect(p, K_GREETING) ;
}

static void finish (proxy *p)
{
  stralloc_free(&ST(p).capa) ;
}

void pop3_protocol (proxy_protocol *proto, size_t line_max)
{
  proto->name = "pop3" ;
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
  proto->state_size = sizeof(pop3_state) ;
  proto->tls_verb = "STLS" ;
  proto->tls_answer = tls_answer ;
  proto->tls_probe = 0 ;
}

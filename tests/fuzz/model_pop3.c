/* model_pop3.c: POP3 servers' framings of what pop3d-starttls forwards
   (see backend_model.h). Every line is a command that owes one reply, but
   AUTH with a mechanism: one reply for the whole exchange, with one SASL
   line from the client per "+ " challenge. A reply is one line, or several
   through "." after +OK to CAPA, RETR, TOP, and LIST, UIDL, AUTH without
   arguments: the server knows which from its own framing of the command. */
#include <stdlib.h>
#include <string.h>
#include "backend_model.h"

enum state { P_LINE, P_SASL_WAIT, P_SASL_LINE } ;
enum kind { K_SINGLE, K_MULTI, K_CAPA, K_AUTH } ;  /* what a reply is made of; the greeting is K_SINGLE */

static void expect (bmodel *m, char kind)
{
  if (!stralloc_catb(&m->log, &kind, 1)) abort() ;
}

static int expected (bmodel const *m) { return m->head < m->log.len ? m->log.s[m->head] : -1 ; }

static void reply_done (bmodel *m)
{
  if (++m->head < m->log.len) return ;
  m->head = m->log.len = 0 ;
}

static void command (bmodel *m, char const *line, size_t clen)
{
  char const *w ;
  size_t i = 0, n = bmodel_word(m, line, clen, &i, &w) ;
  int args = i < clen ;  /* after the verb's SP, or with BM_BLANKS a non-blank */
  char kind = K_SINGLE ;
  if (m->v & BM_BLANKS) for (args = 0 ; i < clen && !args ; i++) args = !bmodel_blank(line[i]) ;
  if (bmodel_is(w, n, "CAPA")) kind = K_CAPA ;
  else if (bmodel_is(w, n, "RETR") || bmodel_is(w, n, "TOP")) kind = K_MULTI ;
  else if ((bmodel_is(w, n, "LIST") || bmodel_is(w, n, "UIDL") || bmodel_is(w, n, "AUTH")) && !args) kind = K_MULTI ;
  else if (bmodel_is(w, n, "AUTH")) { kind = K_AUTH ; m->state = P_SASL_WAIT ; }
  expect(m, kind) ;
  bmodel_complete(m) ;
}

static size_t frame (bmodel *m, char const *s, size_t len)
{
  size_t pos = 0 ;
  for (;;)
  {
    char const *line ;
    size_t clen ;
    bmodel_skip_lf(m, s, len, &pos) ;
    switch (m->state)
    {
      case P_SASL_WAIT : return pos ;
      case P_SASL_LINE :
        if (!bmodel_line(m, s, len, &pos, 0, &line, &clen)) return pos ;
        m->state = P_SASL_WAIT ;
        break ;
      default :
        if (pos == len) return pos ;
        bmodel_begin(m) ;
        if (!bmodel_line(m, s, len, &pos, 0, &line, &clen)) return pos ;
        command(m, line, clen) ;
    }
  }
}

static int is_end (char const *line, size_t len)
{
  return (len == 3 && !memcmp(line, ".\r\n", 3)) || (len == 2 && !memcmp(line, ".\n", 2)) ;
}

/* Reply lines as pop3d-starttls reads them: a line longer than its limit
   comes in pieces, its first piece says what it is. A CAPA that gets no
   +OK is answered by the proxy itself, ending there. */
static void reply (bmodel *m, char const *line, size_t len)
{
  int cont = m->rpiece, kind = expected(m) ;
  int challenge = len >= 2 && line[0] == '+' && line[1] == ' ' ;
  m->rpiece = line[len - 1] != '\n' ;
  if (!m->rgreeted)
  {
    m->rgreeted = !m->rpiece ;
    return ;
  }
  if (kind < 0) return ;
  if (kind == K_CAPA)
  {
    if (!m->rmulti && !cont && len >= 3 && !strncmp(line, "+OK", 3)) m->rmulti = 1 ;
    if (m->rmulti)
    {
      if (cont || !is_end(line, len)) return ;
      m->rmulti = 0 ;
    }
    else if (cont) return ;
    reply_done(m) ;
    return ;
  }
  if (!cont)
  {
    m->rfinal = 1 ;
    if (kind == K_MULTI)
    {
      if (!m->rmulti && len >= 3 && !strncmp(line, "+OK", 3)) { m->rmulti = 1 ; m->rfinal = 0 ; }
      else if (m->rmulti && !is_end(line, len)) m->rfinal = 0 ;
    }
    else if (kind == K_AUTH && challenge)
    {
      m->rfinal = 0 ;
      if (!m->rpiece && m->state == P_SASL_WAIT) m->state = P_SASL_LINE ;
    }
  }
  else if (kind == K_AUTH && !m->rfinal && !m->rpiece && m->state == P_SASL_WAIT) m->state = P_SASL_LINE ;
  if (m->rpiece || !m->rfinal) return ;
  if (kind == K_MULTI) m->rmulti = 0 ;
  if (kind == K_AUTH) m->state = P_LINE ;
  reply_done(m) ;
}

static int boundary (bmodel const *m) { return m->state == P_LINE ; }

static char const *state_name (bmodel const *m)
{
  static char const *const names[] = { "command lines", "waiting for a challenge", "a SASL line due" } ;
  return names[m->state] ;
}

static bmodel_variant const variants[] = {
  { "rfc", BM_EOL_CRLF },                  /* RFC 1939: CRLF lines, SP-separated */
  { "lf", BM_EOL_LF },
  { "cr", BM_EOL_CR },                     /* a bare CR ends lines too */
  { "blanks", BM_EOL_LF | BM_BLANKS },     /* words after any blanks (GNU mailutils) */
  { "lenient", BM_EOL_CR | BM_BLANKS },
} ;

bmodel_protocol const bmodel_pop3 = {
  .name = "pop3",
  .variants = variants,
  .n = sizeof(variants) / sizeof(variants[0]),
  .frame = frame,
  .reply = reply,
  .boundary = boundary,
  .state_name = state_name,
} ;

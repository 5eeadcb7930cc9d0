/* model_imap.c: IMAP servers' framings of what imapd-starttls forwards
   (see backend_model.h). A command is a tagged line with its literals and
   the lines that continue it; it owes one tagged completion. A literal is
   {n}, {n+} or ~{n} at the end of a line: to RFC 9051 only after SP and
   outside a quoted string, to a lenient server anywhere at the end. A
   synchronising literal comes after the server's "+", or never if the
   command is completed first; AUTHENTICATE and IDLE take one raw line per
   "+" until their completion. The proxy's own probe NOOP is a command like
   any. */
#include <stdint.h>
#include <string.h>
#include "backend_model.h"

#define IM_LENIENT BM_PROTO   /* literal markers anywhere at the end of a line, quotes or not */

enum state { I_LINE, I_LIT, I_WAIT_LIT, I_RAW_WAIT, I_RAW_LINE } ;

/* Is s[pos] inside a quoted string ('"', backslash escapes), from s's start? */
static int quoted_at (char const *s, size_t pos)
{
  int q = 0 ;
  for (size_t i = 0 ; i < pos ; i++)
  {
    if (q && s[i] == '\\') i++ ;
    else if (s[i] == '"') q = !q ;
  }
  return q ;
}

/* A literal marker at the end of the line: "{" digits ["+"] "}", its size
   the whole digit run (past 2^59, simply huge). Returns where the marker
   begins plus one (its "~" for a literal8), 0 if there is none. */
static size_t marker (char const *s, size_t len, uint64_t *n, int *sync)
{
  size_t i = len, end ;
  uint64_t v = 0 ;
  if (!i || s[--i] != '}') return 0 ;
  *sync = !(i && s[i - 1] == '+') ;
  if (!*sync) i-- ;
  end = i ;
  while (i && s[i - 1] >= '0' && s[i - 1] <= '9') i-- ;
  if (i == end || !i || s[i - 1] != '{') return 0 ;
  for (size_t j = i ; j < end ; j++)
  {
    if (v > ((uint64_t)1 << 59)) { v = UINT64_MAX ; break ; }
    v = v * 10 + (uint64_t)(s[j] - '0') ;
  }
  *n = v ;
  i-- ;
  if (i && s[i - 1] == '~') i-- ;
  return i + 1 ;
}

static int literal (bmodel const *m, char const *s, size_t len, uint64_t *n, int *sync)
{
  size_t b = marker(s, len, n, sync) ;
  if (!b || m->v & IM_LENIENT) return !!b ;
  b-- ;
  return b && s[b - 1] == ' ' && !quoted_at(s, b) ;
}

/* The first line of a command: its tag, and whether it is AUTHENTICATE or IDLE. */
static void command (bmodel *m, char const *line, size_t clen)
{
  char const *w ;
  size_t i = 0, n = bmodel_word(m, line, clen, &i, &w) ;
  m->tag[0] = 0 ;
  if (n < sizeof(m->tag)) { memcpy(m->tag, w, n) ; m->tag[n] = 0 ; }
  n = bmodel_word(m, line, clen, &i, &w) ;
  m->raw = bmodel_is(w, n, "AUTHENTICATE") || bmodel_is(w, n, "IDLE") ;
}

static void segment (bmodel *m, char const *line, size_t clen)
{
  int sync ;
  if (!m->cont) command(m, line, clen) ;
  if (!literal(m, line, clen, &m->n, &sync))
  {
    m->cont = 0 ;
    bmodel_complete(m) ;
    if (m->raw) m->state = I_RAW_WAIT ;
    return ;
  }
  m->cont = 1 ;
  m->state = sync ? I_WAIT_LIT : I_LIT ;
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
      case I_WAIT_LIT : case I_RAW_WAIT : return pos ;
      case I_LIT :
        if (m->n)
        {
          size_t n = len - pos < m->n ? len - pos : (size_t)m->n ;
          if (!n) return pos ;
          bmodel_take(m, &pos, n) ;
          m->n -= n ;
          break ;
        }
        m->state = I_LINE ;
        break ;
      case I_RAW_LINE :
        if (!bmodel_line(m, s, len, &pos, 0, &line, &clen)) return pos ;
        m->state = I_RAW_WAIT ;
        break ;
      default :
        if (pos == len) return pos ;
        bmodel_begin(m) ;
        if (!bmodel_line(m, s, len, &pos, 0, &line, &clen)) return pos ;
        segment(m, line, clen) ;
    }
  }
}

/* A tagged line's tag as imapd-starttls reads it: up to SP, which must follow. */
static size_t reply_tag (char const *line, size_t len)
{
  size_t n = 0 ;
  while (n < len && line[n] != ' ' && line[n] != '\r' && line[n] != '\n') n++ ;
  return n && n < 64 && n < len && line[n] == ' ' ? n : 0 ;
}

static void reply_done (bmodel *m, char const *tag, size_t n)
{
  if (!m->tag[0] || strlen(m->tag) != n || memcmp(m->tag, tag, n)) return ;
  if (m->state == I_WAIT_LIT)
  {
    /* refused before its literal: the command ends with the line */
    m->cont = 0 ;
    m->state = I_LINE ;
    bmodel_complete(m) ;
  }
  else if (m->state == I_RAW_WAIT || m->state == I_RAW_LINE) m->state = I_LINE ;
}

/* Response lines as imapd-starttls reads them (the bytes of a response's
   literals never come here): after a literal or a piece, a line continues
   a response; the greeting comes first. */
static void reply (bmodel *m, char const *line, size_t len)
{
  int piece = line[len - 1] != '\n', sync ;
  int cont = m->rcont || m->rpiece ;
  uint64_t n ;
  size_t clen = len ;
  m->rpiece = piece ;
  if (clen && line[clen - 1] == '\n') clen-- ;
  if (clen && line[clen - 1] == '\r') clen-- ;
  if (cont)
  {
    m->rcont = !piece && marker(line, clen, &n, &sync) ;
    return ;
  }
  if (!m->rgreeted) { m->rgreeted = 1 ; return ; }
  if (line[0] == '+')
  {
    if (m->state == I_WAIT_LIT) m->state = I_LIT ;
    else if (m->state == I_RAW_WAIT) m->state = I_RAW_LINE ;
    return ;
  }
  if (line[0] != '*')
  {
    size_t t = reply_tag(line, len) ;
    if (t) reply_done(m, line, t) ;
    /* the completion of the proxy's probe (its tag is predictable in the
       harness) is read with no literal at its end */
    if (t == 19 && !memcmp(line, "ust0000000000000000", 19)) return ;
  }
  m->rcont = !piece && marker(line, clen, &n, &sync) ;
}

static int boundary (bmodel const *m) { return m->state == I_LINE && !m->cont ; }

static char const *state_name (bmodel const *m)
{
  static char const *const names[] = { "command lines", "a literal", "waiting for a literal's +", "waiting for a +", "a raw line due" } ;
  return names[m->state] ;
}

static bmodel_variant const variants[] = {
  { "rfc", BM_EOL_LF },                               /* RFC 9051: SP-separated, literals after SP outside quotes */
  { "lenient-literals", BM_EOL_LF | IM_LENIENT },
  { "blanks", BM_EOL_LF | BM_BLANKS },                 /* words after any blanks (tag and command name) */
  { "lenient", BM_EOL_LF | BM_BLANKS | IM_LENIENT },
  { "cr", BM_EOL_CR | BM_BLANKS | IM_LENIENT },        /* a bare CR ends lines too */
} ;

bmodel_protocol const bmodel_imap = {
  .name = "imap",
  .variants = variants,
  .n = sizeof(variants) / sizeof(variants[0]),
  .frame = frame,
  .reply = reply,
  .boundary = boundary,
  .state_name = state_name,
} ;

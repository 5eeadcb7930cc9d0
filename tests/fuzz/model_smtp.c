/* model_smtp.c: SMTP servers' framings of what smtpd-starttls forwards
   (see backend_model.h). Every line is a command that owes one reply; DATA
   owes one and, on 354, its body another; BDAT with its chunk is one; AUTH
   owes one and each SASL response line one more, while the replies are 334.
   Replies are numbered as they come (the greeting apart): reply k answers
   command k, which is what a server's own replies are. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_model.h"

#define SM_BODY_LINES BM_PROTO         /* a body ends at a line "." as the server frames lines (LF.LF, CR.CR...), not only CRLF.CRLF */
#define SM_CHUNKING (BM_PROTO << 1)    /* BDAT is always a chunk, advertised or not */
#define SM_WRAP32 (BM_PROTO << 2)      /* a BDAT size is read by a 32-bit parser, after any blanks */
#define SM_CUT (BM_PROTO << 3)         /* command lines are read into 512 octets: the rest of a longer one is another */

#define CUT 512   /* RFC 5321's least: Exim cuts at 16384, sendmail at 2048 */

enum state { S_LINE, S_SASL, S_WAIT, S_BODY, S_CHUNK } ;
enum wait { W_DATA, W_AUTH, W_BDAT } ;

/* What a reply said, as far as framing goes: one byte in m->log per reply. */
#define R_354 1
#define R_334 2
#define R_CHUNKING 4   /* a 2xx EHLO reply, well formed, with a CHUNKING line */

/* Is the text after "250-" / "250 " the keyword (followed by SP, =, CR, LF or its end)? */
static int keyword (char const *text, size_t len, char const *kw)
{
  size_t n = strlen(kw) ;
  if (len < n || strncasecmp(text, kw, n)) return 0 ;
  return len == n || text[n] == ' ' || text[n] == '=' || text[n] == '\r' || text[n] == '\n' ;
}

/* Reply lines as smtp.c reads them: a line longer than its limit comes in
   pieces, its first piece says whether it is final; a reply's last line
   gives its code. */
static void reply (bmodel *m, char const *line, size_t len)
{
  int piece = line[len - 1] != '\n' ;
  if (!m->rpiece)
  {
    m->rfinal = !(len >= 4 && line[3] == '-') ;
    memset(m->rcode, 0, 3) ;
    memcpy(m->rcode, line, len >= 3 ? 3 : len) ;
    if (!m->rlines) m->rfirst = line[0] ;
    else if (len >= 4 && keyword(line + 4, len - 4, "CHUNKING")) m->rchunk = 1 ;
    m->rlen = 0 ;
  }
  m->rpiece = piece ;
  m->rlen += len ;
  if (piece) return ;
  if (m->rlen < 4) m->rwell = 0 ;
  m->rlines++ ;
  if (!m->rfinal) return ;
  if (m->rgreeted)
  {
    char r = (char)((!memcmp(m->rcode, "354", 3) ? R_354 : 0) | (!memcmp(m->rcode, "334", 3) ? R_334 : 0)
      | (m->rfirst == '2' && m->rwell && m->rchunk ? R_CHUNKING : 0)) ;
    if (!stralloc_catb(&m->log, &r, 1)) abort() ;
  }
  m->rgreeted = 1 ;
  m->rlines = 0 ; m->rwell = 1 ; m->rchunk = 0 ;
}

/* BDAT's size: strictly "BDAT" SP 1*DIGIT [SP "LAST"], as RFC 3030 has it
   (with BM_BLANKS, any blanks for each SP), or with SM_WRAP32 the digits
   after any blanks, modulo 2^32 (Exim's %u), whatever follows. 0 if the
   server finds no size: a 501, and no chunk. i is where the verb ended. */
static size_t blanks (bmodel const *m, char const *line, size_t clen, size_t i)
{
  if (m->v & (BM_BLANKS | SM_WRAP32)) while (i < clen && bmodel_blank(line[i])) i++ ;
  return i ;
}

static int bdat_size (bmodel const *m, char const *line, size_t clen, size_t i, uint64_t *n)
{
  size_t d = 0, j ;
  uint64_t v = 0 ;
  i = blanks(m, line, clen, i) ;
  if (m->v & SM_WRAP32)
  {
    for (; i < clen && line[i] >= '0' && line[i] <= '9' ; i++, d++) v = (v * 10 + (uint64_t)(line[i] - '0')) & 0xffffffffU ;
    *n = v ;
    return d > 0 ;
  }
  for (; i < clen && line[i] >= '0' && line[i] <= '9' ; i++, d++)
  {
    if (d == 19) return 0 ;
    v = v * 10 + (uint64_t)(line[i] - '0') ;
  }
  if (!d) return 0 ;
  if (m->v & BM_BLANKS)
  {
    j = blanks(m, line, clen, i) ;
    if (j > i && clen - j >= 4 && !strncasecmp(line + j, "LAST", 4)) j += 4 ;
    i = blanks(m, line, clen, j) ;
  }
  else if (clen - i == 5 && !strncasecmp(line + i, " LAST", 5)) i = clen ;
  *n = v ;
  return i == clen ;
}

static void wait_for (bmodel *m, int what, uint64_t k)
{
  m->state = S_WAIT ;
  m->wait = what ;
  m->k = k ;
}

static void command (bmodel *m, char const *line, size_t clen)
{
  char const *w ;
  size_t i = 0, n = bmodel_word(m, line, clen, &i, &w) ;
  uint64_t k = m->commands ;  /* this command's index: its reply's */
  uint64_t size ;
  if (bmodel_is(w, n, "BDAT") && bdat_size(m, line, clen, i, &size))
  {
    m->n = size ;
    if (m->v & SM_CHUNKING) m->state = S_CHUNK ;
    else if (m->ehlo >= 0) wait_for(m, W_BDAT, (uint64_t)m->ehlo) ;
    else bmodel_complete(m) ;  /* no CHUNKING: the chunk is commands */
    return ;
  }
  bmodel_complete(m) ;
  if (bmodel_is(w, n, "DATA")) wait_for(m, W_DATA, k) ;
  else if (bmodel_is(w, n, "AUTH")) wait_for(m, W_AUTH, k) ;
  else if (bmodel_is(w, n, "EHLO")) m->ehlo = (int64_t)k ;
  else if (bmodel_is(w, n, "HELO")) m->ehlo = -2 ;
}

/* The reply k decides what comes next, once it has come. */
static int decide (bmodel *m)
{
  char r ;
  if (m->log.len <= m->k) return 0 ;
  r = m->log.s[m->k] ;
  m->state = S_LINE ;
  switch (m->wait)
  {
    case W_DATA : if (r & R_354) { m->state = S_BODY ; m->data = 1 ; } break ;
    case W_AUTH : if (r & R_334) m->state = S_SASL ; break ;
    case W_BDAT : if (r & R_CHUNKING) m->state = S_CHUNK ; else bmodel_complete(m) ; break ;
  }
  return 1 ;
}

/* The end of a body, CRLF "." CRLF only. data: 0 inside a line, 1 at a
   line start, 2 after "." there, 3 after ".\r", 4 after a CR. */
static int body_strict (int *data, char c)
{
  switch (*data)
  {
    case 1 : *data = c == '.' ? 2 : c == '\r' ? 4 : 0 ; break ;
    case 2 : *data = c == '\r' ? 3 : 0 ; break ;
    case 3 : if (c == '\n') return 1 ; *data = c == '\r' ? 4 : 0 ; break ;
    case 4 : *data = c == '\n' ? 1 : c == '\r' ? 4 : 0 ; break ;
    default : *data = c == '\r' ? 4 : 0 ;
  }
  return 0 ;
}

/* The end of a body at a line "." as the server frames its lines: at LF
   (its CR no content), or at CR or LF. data: 0 inside a line, 1 at a line
   start, 2 after "." there, 3 after ".\r" (LF rule). */
static int body_lines (bmodel *m, char c)
{
  int cr = (m->v & BM_EOL) == BM_EOL_CR ;
  int eol = c == '\n' || (cr && c == '\r') ;
  switch (m->data)
  {
    case 1 : m->data = c == '.' ? 2 : eol ? 1 : 0 ; break ;
    case 2 :
      if (eol) { m->cr = c == '\r' ; return 1 ; }
      m->data = c == '\r' ? 3 : 0 ;
      break ;
    case 3 : if (c == '\n') return 1 ; m->data = 0 ; break ;
    default : m->data = eol ? 1 : 0 ;
  }
  return 0 ;
}

/* Body bytes from s: how many belong to it; *end if it ended there. */
static size_t body (bmodel *m, char const *s, size_t len, int *end)
{
  int lines = m->v & SM_BODY_LINES && (m->v & BM_EOL) != BM_EOL_CRLF ;
  for (size_t i = 0 ; i < len ; i++)
    if (lines ? body_lines(m, s[i]) : body_strict(&m->data, s[i])) { *end = 1 ; return i + 1 ; }
  return len ;
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
      case S_WAIT :
        if (!decide(m)) return pos ;
        break ;
      case S_CHUNK :
        if (m->n)
        {
          size_t n = len - pos < m->n ? len - pos : (size_t)m->n ;
          if (!n) return pos ;
          bmodel_take(m, &pos, n) ;
          m->n -= n ;
          break ;
        }
        bmodel_complete(m) ;
        m->state = S_LINE ;
        break ;
      case S_BODY :
      {
        int end = 0 ;
        if (pos == len) return pos ;
        bmodel_begin(m) ;
        bmodel_take(m, &pos, body(m, s + pos, len - pos, &end)) ;
        if (end) { bmodel_complete(m) ; m->state = S_LINE ; }
        break ;
      }
      default :
        if (pos == len) return pos ;
        bmodel_begin(m) ;
        if (!bmodel_line(m, s, len, &pos, m->v & SM_CUT && m->state == S_LINE ? CUT : 0, &line, &clen)) return pos ;
        if (m->state == S_SASL)
        {
          /* a SASL response: a reply is due, 334 for another */
          bmodel_complete(m) ;
          wait_for(m, W_AUTH, m->commands - 1) ;
        }
        else command(m, line, clen) ;
    }
  }
}

static int boundary (bmodel const *m) { return m->state == S_LINE ; }

static char const *state_name (bmodel const *m)
{
  static char const *const names[] = { "command lines", "a SASL response due", "waiting for a reply", "a DATA body", "a BDAT chunk" } ;
  return names[m->state] ;
}

/* No variant reads a chunk as commands after an EHLO reply that listed
   CHUNKING: the proxy forwards BDAT only then (doc/guarantees.md), and a
   server that advertises CHUNKING without it is broken, not lenient. The
   variants without SM_CHUNKING are the server without CHUNKING wherever
   the backend did not advertise it. */
static bmodel_variant const variants[] = {
  { "rfc", BM_EOL_CRLF },                                       /* RFC 5321 to the letter */
  { "lf", BM_EOL_LF },                                          /* lines at LF, CRLF.CRLF bodies */
  { "postfix", BM_EOL_LF | BM_BLANKS | SM_BODY_LINES },         /* verbs after any blanks, bodies end at LF.LF, LF.CRLF, CRLF.LF */
  { "cr", BM_EOL_CR | SM_BODY_LINES },                          /* bare CR ends lines, and bodies at CR.CR too */
  { "chunking", BM_EOL_LF | SM_CHUNKING | SM_WRAP32 },          /* BDAT taken unadvertised, its size a 32-bit one */
  { "cut", BM_EOL_LF | SM_CUT },                                /* a 512-octet command buffer, the rest of a line run as another command */
  { "lenient", BM_EOL_CR | BM_BLANKS | SM_BODY_LINES | SM_CHUNKING | SM_WRAP32 },
} ;

bmodel_protocol const bmodel_smtp = {
  .name = "smtp",
  .variants = variants,
  .n = sizeof(variants) / sizeof(variants[0]),
  .frame = frame,
  .reply = reply,
  .boundary = boundary,
  .state_name = state_name,
} ;

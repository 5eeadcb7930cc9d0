/* fuzz_client_dialogue.c: libFuzzer target for the client proxies' dialogue
   before TLS (client_smtp.c, client_imap.c, client_pop3.c over client_io.c).
   Byte 0 picks the protocol, byte 1 seeds the chunking; the rest is what the
   server sends, in chunks. Checked: a STARTTLS verdict only when the
   server sent nothing after its success reply (no byte left in the reader
   and none still to come), and the greeting the client would get is
   printable lines ended by CRLF. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "client.h"

typedef struct feed_s {
  uint8_t const *data ;
  size_t len, pos ;
  uint32_t rng ;
} feed ;

static long fill (void *ctx, int fd, char *buf, size_t max, unsigned int ms)
{
  feed *f = ctx ;
  size_t n ;
  (void)fd ; (void)ms ;
  if (f->pos == f->len) return 0 ;
  f->rng = f->rng * 1103515245u + 12345u ;
  n = 1 + (f->rng >> 16) % 97 ;
  if (n > f->len - f->pos) n = f->len - f->pos ;
  if (n > max) n = max ;
  memcpy(buf, f->data + f->pos, n) ;
  f->pos += n ;
  return (long)n ;
}

static int put (void *ctx, int fd, char const *s, size_t len) { (void)ctx ; (void)fd ; (void)s ; (void)len ; return 0 ; }
static int ready (void *ctx, int fd) { feed *f = ctx ; (void)fd ; return f->pos < f->len ; }

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static cp_dialog d ;
  cp_protocol p ;
  feed f ;
  cp_verdict v ;
  size_t i ;
  if (size < 2) return 0 ;
  switch (data[0] % 3) { case 0 : cp_smtp(&p) ; break ; case 1 : cp_imap(&p) ; break ; default : cp_pop3(&p) ; break ; }
  f.data = data + 2 ; f.len = size - 2 ; f.pos = 0 ; f.rng = data[1] ;
  memset(&d.r, 0, sizeof(d.r)) ;
  d.r.line_max = data[1] & 1 ? 512 : p.line_max ;
  d.r.step_ms = 1000 ;
  d.r.fill = &fill ; d.r.put = &put ; d.r.ready = &ready ; d.r.ctx = &f ;
  d.wfd = -1 ;
  d.ehlo_name = "fuzz.test" ;
  d.greeting.len = 0 ;
  d.why[0] = 0 ;
  v = p.dialogue(&d) ;
  if (v == CP_START_TLS && (f.pos != f.len || d.r.start != d.r.end)) abort() ;
  if (d.greeting.len)
  {
    if (d.greeting.len < 2 || memcmp(d.greeting.s + d.greeting.len - 2, "\r\n", 2)) abort() ;
    for (i = 0 ; i < d.greeting.len ; i++)
    {
      unsigned char c = (unsigned char)d.greeting.s[i] ;
      if ((c < 0x20 || c > 0x7e) && c != '\r' && c != '\n') abort() ;
      if (c == '\r' && (i + 1 >= d.greeting.len || d.greeting.s[i + 1] != '\n')) abort() ;
      if (c == '\n' && (!i || d.greeting.s[i - 1] != '\r')) abort() ;
    }
    /* IMAP: one line, which no parser may take for a literal announcement,
       with no response code (what the server listed before TLS) */
    if (data[0] % 3 == 1 && (memchr(d.greeting.s, '\n', d.greeting.len) != d.greeting.s + d.greeting.len - 1 || d.greeting.s[d.greeting.len - 3] == '}')) abort() ;
    if (data[0] % 3 == 1)
    {
      size_t k = d.greeting.s[2] == 'O' ? 5 : 10 ;  /* after "* OK " or "* PREAUTH " */
      while (k < d.greeting.len && d.greeting.s[k] == ' ') k++ ;
      if (k < d.greeting.len && d.greeting.s[k] == '[') abort() ;
    }
  }
  if (strlen(d.why) >= sizeof(d.why)) abort() ;
  return 0 ;
}

/* fuzz_imap_literal.c: libFuzzer target for IMAP literal framing in imapd-starttls
   (DESIGN.md §5 rule 7). The input drives a well-behaved client and backend:
   commands made of segments, each ending in a literal ({n}, {n+}, ~{n},
   ~{n+}) or the command's end, sent in chunks of any size, the client waiting
   for the backend's "+" or not; responses with literals of any bytes. A
   reference model knows where every literal is; since no command is one the
   proxy answers itself and no response carries capabilities, each side must
   read exactly what the other sent, and the proxy's count of replies due must
   match the model's. A literal byte taken for a command or a response breaks
   that. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "proxy_harness.h"
#include "imap.h"

#define check(x) do { if (!(x)) abort() ; } while (0)
#define MAX_OUT 64   /* commands in flight */

static uint8_t const *in ;
static size_t inlen, inpos ;
static unsigned int byte (void) { return inpos < inlen ? in[inpos++] : 0 ; }

static stralloc csent = STRALLOC_ZERO, bsent = STRALLOC_ZERO, line = STRALLOC_ZERO ;
static unsigned int chunk ;  /* the current sender splits its bytes in pieces of this size, 0: whole */
static unsigned int tags[MAX_OUT], nout, nextag ;

/* What each side read is a prefix of what the other sent; whole, when asked. */
static void check_streams (int whole)
{
  size_t len ;
  char const *s = harness_backend_seen(&len) ;
  check(len <= csent.len && (!len || !memcmp(s, csent.s, len))) ;
  if (whole) check(len == csent.len) ;
  s = harness_client_seen(&len) ;
  check(len <= bsent.len && (!len || !memcmp(s, bsent.s, len))) ;
  if (whole) check(len == bsent.len) ;
}

static void sync_all (void)
{
  harness_client_reads((size_t)-1) ;
  harness_backend_reads((size_t)-1) ;
  check_streams(!harness_over()) ;
}

static void put (int client, char const *s, size_t len)
{
  if (!stralloc_catb(client ? &csent : &bsent, s, len)) abort() ;
  while (len)
  {
    size_t n = chunk && chunk < len ? chunk : len ;
    if (client) harness_client_sends(s, n) ; else harness_backend_sends(s, n) ;
    s += n ; len -= n ;
  }
  check_streams(0) ;
}

/* Text that is neither a line end nor a literal announcement by itself. */
static void text (unsigned int n, char const *alphabet)
{
  size_t k = strlen(alphabet) ;
  while (n--) stralloc_catb(&line, alphabet + byte() % k, 1) ;
  if (line.len && line.s[line.len - 1] == '}') stralloc_catb(&line, "x", 1) ;
}

/* " {n}" / "~{n+}"... at the end of the line; returns 1 if synchronizing. */
static int announce (unsigned int n, unsigned int kind)
{
  char a[32] ;
  int sync = !(kind & 1) ;
  snprintf(a, sizeof(a), " %s{%s%u%s}\r\n", kind & 2 ? "~" : "", kind & 4 ? "00" : "", n, sync ? "" : "+") ;
  stralloc_cats(&line, a) ;
  return sync ;
}

static void literal_bytes (int client, unsigned int n)
{
  char buf[256] ;
  for (unsigned int i = 0 ; i < n ; i++) buf[i] = (char)byte() ;
  put(client, buf, n) ;
}

static char const client_alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}+~()*%<>.-" ;
static char const backend_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 {}+~()<>.-" ;

static void client_command (void)
{
  static char const *const verbs[] = { "APPEND", "LOGIN", "NOOP", "FETCH", "SEARCH", "SETMETADATA", "X-CMD", "SELECT" } ;
  unsigned int segments = byte() % 4, tag = nextag++ ;
  char t[32] ;
  if (nout == MAX_OUT) return ;
  chunk = byte() % 24 ;
  snprintf(t, sizeof(t), "c%u %s", tag, verbs[byte() % 8]) ;
  line.len = 0 ;
  stralloc_cats(&line, t) ;
  tags[nout++] = tag ;
  for (;;)
  {
    unsigned int how = byte(), n ;
    text(byte() % 16, client_alphabet) ;
    if (!segments--)
    {
      stralloc_cats(&line, "\r\n") ;
      put(1, line.s, line.len) ;
      break ;
    }
    n = byte() % 64 ;
    if (!announce(n, how))
    {
      put(1, line.s, line.len) ;
      literal_bytes(1, n) ;
    }
    else if (how & 8)
    {
      /* a hasty client: the literal follows at once; the proxy must not read it before the "+" */
      put(1, line.s, line.len) ;
      literal_bytes(1, n) ;
      harness_backend_reads((size_t)-1) ;
      put(0, "+ go ahead\r\n", 12) ;
    }
    else
    {
      put(1, line.s, line.len) ;
      harness_backend_reads((size_t)-1) ;
      if (how & 16)
      {
        /* the server refuses before the literal: the command ends there */
        snprintf(t, sizeof(t), "c%u NO refused\r\n", tag) ;
        put(0, t, strlen(t)) ;
        nout-- ;
        harness_client_reads((size_t)-1) ;
        return ;
      }
      put(0, "+ ready\r\n", 9) ;
      harness_client_reads((size_t)-1) ;
      literal_bytes(1, n) ;
    }
    line.len = 0 ;
  }
}

static void backend_untagged (void)
{
  unsigned int literals = byte() % 3 ;
  char t[32] ;
  chunk = byte() % 24 ;
  snprintf(t, sizeof(t), "* %u FETCH (", byte()) ;
  line.len = 0 ;
  stralloc_cats(&line, t) ;
  for (;;)
  {
    unsigned int how = byte(), n ;
    text(byte() % 16, backend_alphabet) ;
    if (!literals--)
    {
      stralloc_cats(&line, ")\r\n") ;
      put(0, line.s, line.len) ;
      break ;
    }
    n = byte() % 128 ;
    announce(n, how & ~1U) ;
    put(0, line.s, line.len) ;
    literal_bytes(0, n) ;
    line.len = 0 ;
  }
}

static void backend_tagged (void)
{
  char t[48] ;
  if (!nout) return ;
  chunk = byte() % 24 ;
  snprintf(t, sizeof(t), "c%u OK done\r\n", tags[0]) ;
  memmove(tags, tags + 1, --nout * sizeof(unsigned int)) ;
  put(0, t, strlen(t)) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static harness_target const t =
  {
    .protocol = imap_protocol,
    .line_max = IMAP_LINE_MAX_DEFAULT,
    .line_min = 1024,
    .verb = "STARTTLS",
    .tagged = 1,
    .ok_reply = " OK Begin TLS negotiation now\r\n"
  } ;
  in = data ; inlen = size ; inpos = 0 ;
  csent.len = bsent.len = 0 ;
  nout = nextag = 0 ;
  chunk = 0 ;
  harness_open(&t, HARNESS_CAPTURE) ;
  put(0, "* OK ready\r\n", 12) ;
  sync_all() ;
  while (inpos < inlen && !harness_over())
  {
    switch (byte() % 4)
    {
      case 0 : client_command() ; break ;
      case 1 : backend_untagged() ; break ;
      case 2 : backend_tagged() ; break ;
      case 3 : sync_all() ; check(harness_pending() == nout) ; break ;
    }
  }
  check(!harness_over()) ;
  sync_all() ;
  check(harness_pending() == nout) ;
  harness_close() ;
  return 0 ;
}

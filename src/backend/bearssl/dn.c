/* dn.c: a DER Distinguished Name as OpenSSL "oneline" text (/C=FR/O=Example/CN=host). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "bearssl-internal.h"

/* ASN.1 tags used in a Name. */
#define TAG_OID 0x06
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_UNIVERSALSTRING 0x1c
#define TAG_BMPSTRING 0x1e

typedef struct attr_name_s {
  char const *oid ;
  char const *name ;
} attr_name ;

/* OpenSSL's short names for the attributes seen in certificate subjects. */
static attr_name const attr_names[] = {
  { "2.5.4.3", "CN" },
  { "2.5.4.4", "SN" },
  { "2.5.4.5", "serialNumber" },
  { "2.5.4.6", "C" },
  { "2.5.4.7", "L" },
  { "2.5.4.8", "ST" },
  { "2.5.4.9", "street" },
  { "2.5.4.10", "O" },
  { "2.5.4.11", "OU" },
  { "2.5.4.12", "title" },
  { "2.5.4.13", "description" },
  { "2.5.4.15", "businessCategory" },
  { "2.5.4.16", "postalAddress" },
  { "2.5.4.17", "postalCode" },
  { "2.5.4.18", "postOfficeBox" },
  { "2.5.4.41", "name" },
  { "2.5.4.42", "GN" },
  { "2.5.4.43", "initials" },
  { "2.5.4.44", "generationQualifier" },
  { "2.5.4.45", "x500UniqueIdentifier" },
  { "2.5.4.46", "dnQualifier" },
  { "2.5.4.65", "pseudonym" },
  { "2.5.4.72", "role" },
  { "2.5.4.97", "organizationIdentifier" },
  { "1.2.840.113549.1.9.1", "emailAddress" },
  { "1.2.840.113549.1.9.2", "unstructuredName" },
  { "1.2.840.113549.1.9.8", "unstructuredAddress" },
  { "0.9.2342.19200300.100.1.1", "UID" },
  { "0.9.2342.19200300.100.1.25", "DC" },
  { "1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL" },
  { "1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST" },
  { "1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC" },
  { 0, 0 }
} ;

/* One DER element: tag, then content [content, content + len). */
typedef struct tlv_s {
  unsigned int tag ;
  unsigned char const *content ;
  size_t len ;
} tlv ;

/* Reads the element at *p (before end) into *t and moves *p past it.
   Returns 0, or -1 if it is malformed or runs past end. */
static int read_tlv (unsigned char const **p, unsigned char const *end, tlv *t)
{
  unsigned char const *q = *p ;
  size_t len ;
  if (end - q < 2) return -1 ;
  t->tag = *q++ ;
  if ((t->tag & 0x1f) == 0x1f) return -1 ;  /* high tag numbers never occur in a Name */
  len = *q++ ;
  if (len & 0x80)
  {
    unsigned int n = len & 0x7f ;
    if (!n || n > 4 || (size_t)(end - q) < n) return -1 ;
    len = 0 ;
    while (n--) len = (len << 8) | *q++ ;
  }
  if ((size_t)(end - q) < len) return -1 ;
  t->content = q ;
  t->len = len ;
  *p = q + len ;
  return 0 ;
}

/* Writes the dotted form of the OID content into buf. Returns 0, or -1 if
   the encoding is invalid or the text does not fit. */
static int oid_text (unsigned char const *s, size_t len, char *buf, size_t max)
{
  size_t pos = 0 ;
  int first = 1 ;
  uint64_t v = 0 ;
  if (!len || (s[len - 1] & 0x80)) return -1 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    int n ;
    if (v > (UINT64_MAX >> 8)) return -1 ;
    if (!v && s[i] == 0x80) return -1 ;  /* non-minimal encoding */
    v = (v << 7) | (s[i] & 0x7f) ;
    if (s[i] & 0x80) continue ;
    if (first)
    {
      unsigned int arc = v < 40 ? 0 : v < 80 ? 1 : 2 ;
      n = snprintf(buf + pos, max - pos, "%u.%llu", arc, (unsigned long long)(v - 40 * arc)) ;
      first = 0 ;
    }
    else n = snprintf(buf + pos, max - pos, ".%llu", (unsigned long long)v) ;
    if (n < 0 || (size_t)n >= max - pos) return -1 ;
    pos += (size_t)n ;
    v = 0 ;
  }
  return 0 ;
}

/* Bounded output: once something does not fit, nothing more is written. */
typedef struct out_s {
  char *s ;
  size_t max ;
  size_t len ;
  int full ;
} out ;

static void put (out *o, char const *s, size_t n)
{
  if (o->full || n >= o->max - o->len) { o->full = 1 ; return ; }
  memcpy(o->s + o->len, s, n) ;
  o->len += n ;
  o->s[o->len] = 0 ;
}

static void put_byte (out *o, unsigned char c)
{
  /* '/' and '+' separate attributes: escaped inside values, as OpenSSL 3 does */
  if (c == '/' || c == '+')
  {
    char esc[2] = { '\\', (char)c } ;
    put(o, esc, 2) ;
  }
  else if (c >= 0x20 && c <= 0x7e) put(o, (char const *)&c, 1) ;
  else
  {
    static char const hex[] = "0123456789ABCDEF" ;
    char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] } ;
    put(o, esc, 4) ;
  }
}

/* Writes a value the way OpenSSL's oneline form does: the content bytes,
   except that wide strings holding only Latin-1 characters are narrowed. */
static void put_value (out *o, tlv const *v)
{
  size_t width = v->tag == TAG_BMPSTRING ? 2 : v->tag == TAG_UNIVERSALSTRING ? 4 : 1 ;
  if (width > 1 && !(v->len % width))
  {
    int narrow = 1 ;
    for (size_t i = 0 ; i < v->len && narrow ; i++)
      if (i % width != width - 1 && v->content[i]) narrow = 0 ;
    if (!narrow) width = 1 ;
  }
  else width = 1 ;
  for (size_t i = width - 1 ; i < v->len ; i += width) put_byte(o, v->content[i]) ;
}

static char const *short_name (char const *oid)
{
  for (attr_name const *p = attr_names ; p->oid ; p++)
    if (!strcmp(p->oid, oid)) return p->name ;
  return oid ;
}

/* Writes one AttributeTypeAndValue, introduced by sep ('/' or '+' inside a
   multi-valued RDN). An attribute that does not fit entirely is left out,
   and so are all those after it. Returns 0, or -1 if malformed. */
static int put_attribute (out *o, tlv const *ava, char sep)
{
  size_t start = o->len ;
  unsigned char const *p = ava->content, *end = ava->content + ava->len ;
  tlv type, value ;
  char oid[128] ;
  char const *name ;
  if (ava->tag != TAG_SEQUENCE || read_tlv(&p, end, &type) < 0 || type.tag != TAG_OID
   || read_tlv(&p, end, &value) < 0 || p != end) return -1 ;
  if (oid_text(type.content, type.len, oid, sizeof(oid)) < 0) return -1 ;
  name = short_name(oid) ;
  {
    size_t n = strlen(name) ;
    char head[sizeof(oid) + 2] ;
    head[0] = sep ;
    memcpy(head + 1, name, n) ;
    head[n + 1] = '=' ;
    put(o, head, n + 2) ;
  }
  put_value(o, &value) ;
  if (o->full)
  {
    o->len = start ;
    o->s[start] = 0 ;
  }
  return 0 ;
}

int bsb_dn_oneline (unsigned char const *der, size_t len, char *buf, size_t max)
{
  out o = { .s = buf, .max = max, .len = 0, .full = 0 } ;
  unsigned char const *p = der, *end = der + len ;
  tlv name ;
  buf[0] = 0 ;
  if (read_tlv(&p, end, &name) < 0 || name.tag != TAG_SEQUENCE || p != end) return -1 ;
  p = name.content ;
  end = name.content + name.len ;
  while (p < end)
  {
    tlv rdn ;
    unsigned char const *q ;
    if (read_tlv(&p, end, &rdn) < 0 || rdn.tag != TAG_SET) goto invalid ;
    q = rdn.content ;
    for (char sep = '/' ; q < rdn.content + rdn.len ; sep = '+')
    {
      tlv ava ;
      if (read_tlv(&q, rdn.content + rdn.len, &ava) < 0 || put_attribute(&o, &ava, sep) < 0) goto invalid ;
    }
  }
  return 0 ;
 invalid:
  buf[0] = 0 ;
  return -1 ;
}

void bsb_dn_append (void *ctx, void const *data, size_t len)
{
  bsb_dn_sink *sink = ctx ;
  if (!sink->nomem && !stralloc_catb(&sink->sa, data, len)) sink->nomem = 1 ;
}

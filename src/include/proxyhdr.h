/* proxyhdr.h: the PROXY protocol header (haproxy's proxy-protocol.txt, v1 and v2): parser and proxy-header's parts. */
#ifndef UST_PROXYHDR_H
#define UST_PROXYHDR_H

#include <stddef.h>

/* A v1 header is at most 107 bytes, its CRLF included (the specification's bound). */
#define PROXYHDR_V1_MAX 107
/* The largest v2 length field accepted: addresses and TLVs after the 16
   fixed bytes. The addresses take at most 216 bytes (AF_UNIX); the rest
   leaves room for haproxy's TLVs (ALPN, authority, unique id, SSL facts). */
#define PROXYHDR_V2_LEN_MAX 1024
/* The most bytes a header may take, and so the buffer a reader needs. */
#define PROXYHDR_MAX (16 + PROXYHDR_V2_LEN_MAX)
/* An address as text (INET6_ADDRSTRLEN), NUL included. */
#define PROXYHDR_IP_MAX 46
/* The default deadline for the whole header, in milliseconds. */
#define PROXYHDR_TIMEOUT_MS_DEFAULT 5000
/* The most balancer addresses -a may list. */
#define PROXYHDR_TRUSTED_MAX 64

typedef enum proxyhdr_kind_e {
  PROXYHDR_LOCAL,   /* v2 LOCAL, v2 PROXY with AF_UNSPEC, v1 UNKNOWN: keep the connection's own addresses */
  PROXYHDR_TCP4,    /* the client's connection was TCP over IPv4 */
  PROXYHDR_TCP6     /* the client's connection was TCP over IPv6 */
} proxyhdr_kind ;

typedef struct proxyhdr_s {
  unsigned int version ;          /* 1 or 2 */
  proxyhdr_kind kind ;
  char src_ip[PROXYHDR_IP_MAX] ;  /* the client: canonical text (inet_ntop); empty for PROXYHDR_LOCAL */
  char dst_ip[PROXYHDR_IP_MAX] ;  /* the address the client connected to (the balancer's front) */
  unsigned int src_port, dst_port ;
} proxyhdr ;

/* Judges the first len bytes read from a connection, buf, as the start of
   one PROXY header, v1 or v2 (told apart by the first byte). Pure: no I/O,
   no allocation, no global state; buf need not be NUL-terminated.
   Returns:
   - n > 0: the header is not complete yet, and the next n bytes all belong
     to it whatever they are: a reader may ask for up to n more bytes and
     never read past the header's end. n is a lower bound (one or two bytes
     near a v1 CRLF), so a reader calls again after each read.
   - 0: buf is exactly one complete valid header; *h is filled in.
   - -1: buf cannot be the start of a valid header (wrong signature,
     a bad field, too long); *why says why in a few words (a static string).
   The bytes read are always checked as far as they go, so a client that is
   not a balancer is found at its first wrong byte, not at a deadline.
   Never reads beyond buf[len-1]; len above PROXYHDR_MAX gives -1. */
extern int proxyhdr_parse (unsigned char const *buf, size_t len, proxyhdr *h, char const **why) ;

/* One address of a trusted balancer, as binary: an IPv4-mapped IPv6
   address (::ffff:a.b.c.d) is the IPv4 address. */
typedef struct proxyhdr_addr_s {
  int family ;                 /* AF_INET or AF_INET6 */
  unsigned char bytes[16] ;    /* 4 or 16 bytes used */
} proxyhdr_addr ;

/* Parses the textual IPv4 or IPv6 address s (inet_pton: no zone, no
   brackets, no port) into *a. Returns 1, or 0 if s is not an address. */
extern int proxyhdr_addr_scan (char const *s, proxyhdr_addr *a) ;

/* Adds the comma-separated addresses of list to set[*n..max-1]. Returns 1;
   0 with *bad set to the offending item's start if one is not an address
   or the set is full (*bad NULL then). */
extern int proxyhdr_addr_list (char const *list, proxyhdr_addr *set, unsigned int *n, unsigned int max, char const **bad) ;

/* Returns 1 if the textual address ip is one of set[0..n-1] (compared as
   binary, so "::ffff:10.0.0.5", "10.0.0.5" and any spelling of an IPv6
   address compare by value), 0 if not or if ip is not an address. */
extern int proxyhdr_addr_trusted (char const *ip, proxyhdr_addr const *set, unsigned int n) ;

/* proxy-header's whole run: options, the trust decision, the read of one
   header from fd 0 within the deadline, the environment, the exec of prog.
   Returns only by exiting (100 usage, 95 header refused, 111 system). */
extern int proxyhdr_main (int argc, char const *const *argv, char const *const *envp) ;

#endif

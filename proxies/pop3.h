/* pop3.h: the POP3 protocol file of the proxy framework. */
#ifndef UST_POP3_H
#define UST_POP3_H

#include <stddef.h>
#include "proxy.h"

#define POP3_LINE_MAX_DEFAULT 255   /* RFC 2449: commands up to 255 octets, CRLF included */
#define POP3_SASL_LINE_MAX 16384    /* while AUTH runs (RFC 5034 lifts the limit for SASL) */

extern void pop3_protocol (proxy_protocol *proto, size_t line_max) ;

#endif

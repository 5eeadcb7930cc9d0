/* imap.h: the IMAP protocol file of the proxy framework. */
#ifndef UST_IMAP_H
#define UST_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include "proxy.h"

#define IMAP_LINE_MAX_DEFAULT 8192          /* RFC 7162 recommends at least 8192 octets */
#define IMAP_LITERAL_MAX ((uint64_t)1 << 31) /* larger literals are refused (they are streamed, never stored) */

extern void imap_protocol (proxy_protocol *proto, size_t line_max) ;

#endif

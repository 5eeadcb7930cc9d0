/* smtp.h: the SMTP protocol file of the proxy framework. */
#ifndef UST_SMTP_H
#define UST_SMTP_H

#include <stddef.h>
#include "proxy.h"

#define SMTP_LINE_MAX_DEFAULT 12288  /* RFC 4954 raises the 512-octet limit to this for AUTH */
#define SMTP_PLAIN_LINE_MAX 512      /* RFC 5321's limit: before TLS, longer lines are never forwarded */

/* Fills proto with SMTP's callbacks; client command lines up to line_max bytes. */
extern void smtp_protocol (proxy_protocol *proto, size_t line_max) ;

#endif

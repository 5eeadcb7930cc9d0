/* ust_alpn.c: the ALPN ids a server engine accepts (ALPACA, RFC 7301 3.2). */
#include <string.h>
#include "ust.h"

/* The mail protocols' ids in IANA's registry: a client offering ALPN
   names one of them, or it is a client of another protocol (a browser
   sent here by a cross-protocol attack) and is refused. */
char const *const ust_alpn_mail[UST_ALPN_MAIL_N] = { "smtp", "imap", "pop3", "managesieve" } ;

int ust_alpn_is_mail (unsigned char const *id, size_t len)
{
  for (unsigned int i = 0 ; i < UST_ALPN_MAIL_N ; i++)
    if (strlen(ust_alpn_mail[i]) == len && !memcmp(ust_alpn_mail[i], id, len)) return 1 ;
  return 0 ;
}

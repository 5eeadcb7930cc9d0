/* errors.c: the BearSSL backend's messages: configuration errors and engine errors in words. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "bearssl-internal.h"

static void vcat (char *buf, size_t max, char const *first, va_list *ap)
{
  size_t len = 0 ;
  for (char const *p = first ; p ; p = va_arg(*ap, char const *))
  {
    size_t n = strlen(p) ;
    if (n > max - 1 - len) n = max - 1 - len ;
    memcpy(buf + len, p, n) ;
    len += n ;
  }
  buf[len] = 0 ;
}

char const *bsb_why (char const *first, ...)
{
  static char buf[512] ;
  va_list ap ;
  va_start(ap, first) ;
  vcat(buf, sizeof(buf), first, &ap) ;
  va_end(ap) ;
  return buf ;
}

void bsb_error (tlsb *s, char const *first, ...)
{
  va_list ap ;
  va_start(ap, first) ;
  vcat(s->err, sizeof(s->err), first, &ap) ;
  va_end(ap) ;
}

typedef struct code_words_s {
  int code ;
  char const *words ;
} code_words ;

static code_words const engine_words[] = {
  { BR_ERR_BAD_PARAM, "bad parameter (internal error)" },
  { BR_ERR_BAD_STATE, "bad engine state (internal error)" },
  { BR_ERR_UNSUPPORTED_VERSION, "unsupported protocol version" },
  { BR_ERR_BAD_VERSION, "protocol version changed during the session" },
  { BR_ERR_BAD_LENGTH, "bad record length" },
  { BR_ERR_TOO_LARGE, "record too large" },
  { BR_ERR_BAD_MAC, "bad record MAC" },
  { BR_ERR_NO_RANDOM, "no source of randomness" },
  { BR_ERR_UNKNOWN_TYPE, "unknown record type" },
  { BR_ERR_UNEXPECTED, "unexpected message" },
  { BR_ERR_BAD_CCS, "bad ChangeCipherSpec" },
  { BR_ERR_BAD_ALERT, "bad alert message" },
  { BR_ERR_BAD_HANDSHAKE, "malformed handshake message" },
  { BR_ERR_OVERSIZED_ID, "oversized session ID" },
  { BR_ERR_BAD_CIPHER_SUITE, "no shared cipher (the peer chose a suite we do not offer)" },
  { BR_ERR_BAD_COMPRESSION, "unsupported compression" },
  { BR_ERR_BAD_FRAGLEN, "bad maximum fragment length" },
  { BR_ERR_BAD_SECRENEG, "secure renegotiation failure" },
  { BR_ERR_EXTRA_EXTENSION, "unexpected extension from the server" },
  { BR_ERR_BAD_SNI, "bad server name extension" },
  { BR_ERR_BAD_HELLO_DONE, "bad ServerHelloDone" },
  { BR_ERR_LIMIT_EXCEEDED, "handshake element exceeds a limit" },
  { BR_ERR_BAD_FINISHED, "bad Finished message" },
  { BR_ERR_RESUME_MISMATCH, "session resumption mismatch" },
  { BR_ERR_INVALID_ALGORITHM, "unsupported or invalid algorithm" },
  { BR_ERR_BAD_SIGNATURE, "bad signature" },
  { BR_ERR_WRONG_KEY_USAGE, "certificate key usage does not allow this use" },
  { BR_ERR_NO_CLIENT_AUTH, "no client certificate presented" },
  { BR_ERR_IO, "I/O error" },
  { BR_ERR_X509_INVALID_VALUE, "invalid value in certificate" },
  { BR_ERR_X509_TRUNCATED, "truncated certificate" },
  { BR_ERR_X509_EMPTY_CHAIN, "empty certificate chain" },
  { BR_ERR_X509_INNER_TRUNC, "certificate: inner element truncated" },
  { BR_ERR_X509_BAD_TAG_CLASS, "certificate: bad ASN.1 tag class" },
  { BR_ERR_X509_BAD_TAG_VALUE, "certificate: bad ASN.1 tag" },
  { BR_ERR_X509_INDEFINITE_LENGTH, "certificate: indefinite length" },
  { BR_ERR_X509_EXTRA_ELEMENT, "certificate: extra element" },
  { BR_ERR_X509_UNEXPECTED, "certificate: unexpected element" },
  { BR_ERR_X509_NOT_CONSTRUCTED, "certificate: expected constructed element" },
  { BR_ERR_X509_NOT_PRIMITIVE, "certificate: expected primitive element" },
  { BR_ERR_X509_PARTIAL_BYTE, "certificate: partial byte in BIT STRING" },
  { BR_ERR_X509_BAD_BOOLEAN, "certificate: bad BOOLEAN" },
  { BR_ERR_X509_OVERFLOW, "certificate: value overflow" },
  { BR_ERR_X509_BAD_DN, "certificate: bad distinguished name" },
  { BR_ERR_X509_BAD_TIME, "certificate: bad time" },
  { BR_ERR_X509_UNSUPPORTED, "certificate uses an unsupported feature" },
  { BR_ERR_X509_LIMIT_EXCEEDED, "certificate exceeds a limit" },
  { BR_ERR_X509_WRONG_KEY_TYPE, "certificate key type does not match the cipher suite" },
  { BR_ERR_X509_BAD_SIGNATURE, "certificate signature is invalid" },
  { BR_ERR_X509_TIME_UNKNOWN, "current time unknown, cannot check certificate validity" },
  { BR_ERR_X509_EXPIRED, "certificate expired or not yet valid" },
  { BR_ERR_X509_DN_MISMATCH, "certificate chain: issuer/subject mismatch" },
  { BR_ERR_X509_BAD_SERVER_NAME, "server name mismatch" },
  { BR_ERR_X509_CRITICAL_EXTENSION, "certificate has an unsupported critical extension" },
  { BR_ERR_X509_NOT_CA, "certificate chain: an issuer is not a CA" },
  { BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate key usage forbids this use" },
  { BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate public key too weak" },
  { BR_ERR_X509_NOT_TRUSTED, "certificate not trusted" },
  { 0, 0 }
} ;

char const *bsb_error_words (int err)
{
  for (code_words const *p = engine_words ; p->words ; p++)
    if (p->code == err) return p->words ;
  return 0 ;
}

static code_words const alert_names[] = {
  { 0, "close_notify" },
  { 10, "unexpected_message" },
  { 20, "bad_record_mac" },
  { 21, "decryption_failed" },
  { 22, "record_overflow" },
  { 30, "decompression_failure" },
  { 40, "handshake_failure" },
  { 42, "bad_certificate" },
  { 43, "unsupported_certificate" },
  { 44, "certificate_revoked" },
  { 45, "certificate_expired" },
  { 46, "certificate_unknown" },
  { 47, "illegal_parameter" },
  { 48, "unknown_ca" },
  { 49, "access_denied" },
  { 50, "decode_error" },
  { 51, "decrypt_error" },
  { 70, "protocol_version" },
  { 71, "insufficient_security" },
  { 80, "internal_error" },
  { 86, "inappropriate_fallback" },
  { 90, "user_canceled" },
  { 100, "no_renegotiation" },
  { 109, "missing_extension" },
  { 110, "unsupported_extension" },
  { 112, "unrecognized_name" },
  { 116, "certificate_required" },
  { 120, "no_application_protocol" },
  { -1, 0 }
} ;

static char const *alert_name (int alert)
{
  for (code_words const *p = alert_names ; p->words ; p++)
    if (p->code == alert) return p->words ;
  return "unknown alert" ;
}

void bsb_error_engine (tlsb *s)
{
  int err = br_ssl_engine_last_error(s->eng) ;
  char num[24] ;
  if (err == BR_ERR_OK)
  {
    bsb_error(s, "the connection was closed", (char const *)0) ;
    return ;
  }
  if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256)
  {
    int alert = err - BR_ERR_SEND_FATAL_ALERT ;
    snprintf(num, sizeof(num), "%d", alert) ;
    if (s->conf.role == TLSCONF_SERVER && s->policy.reason[0])
      bsb_error(s, s->policy.reason, " (sent alert ", num, " ", alert_name(alert), ")", (char const *)0) ;
    else if (alert == 40)
      bsb_error(s, "no shared cipher or protocol version with the peer (sent alert 40 handshake_failure)", (char const *)0) ;
    else
      bsb_error(s, "handshake refused: sent alert ", num, " (", alert_name(alert), ")", (char const *)0) ;
    return ;
  }
  if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256)
  {
    int alert = err - BR_ERR_RECV_FATAL_ALERT ;
    snprintf(num, sizeof(num), "%d", alert) ;
    bsb_error(s, "peer sent alert ", num, " (", alert_name(alert), ")", (char const *)0) ;
    return ;
  }
  {
    char const *words = bsb_error_words(err) ;
    char const *whose = s->conf.role == TLSCONF_SERVER ? "client certificate rejected: " : "server certificate rejected: " ;
    int x509 = err >= BR_ERR_X509_INVALID_VALUE && err <= BR_ERR_X509_NOT_TRUSTED ;
    snprintf(num, sizeof(num), "%d", err) ;
    if (!words) bsb_error(s, "BearSSL error ", num, (char const *)0) ;
    else bsb_error(s, x509 ? whose : "", words, (char const *)0) ;
  }
}

/* unit-lib.c: unit tests of the shared library: info block, SNI selection, environment. */
#include <stdio.h>
#include <string.h>
#include "tlsconf.h"
#include "tlsinfo.h"
#include "ust.h"

static int failures = 0 ;

static void check (int ok, char const *what)
{
  if (!ok) { printf("FAIL: %s\n", what) ; failures++ ; }
}

static void test_block (void)
{
  tlsinfo in = { .protocol = "TLSv1.3", .cipher = "TLS_AES_128_GCM_SHA256", .sni = "mail.example.org" } ;
  tlsinfo out ;
  char buf[TLSINFO_BLOCK_MAX] ;
  size_t len = tlsinfo_block_make(&in, buf, sizeof(buf)) ;
  static char const expected[] = "SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=TLS_AES_128_GCM_SHA256\0SSL_TLS_SNI_SERVERNAME=mail.example.org\0" ;
  check(len == sizeof(expected), "block length: unknown fields omitted, one final NUL") ;
  check(!memcmp(buf, expected, sizeof(expected)), "block bytes") ;
  check(!strstr(buf, "SSL_PEER_CERT_HASH"), "no bare name for an unknown value") ;
  check(tlsinfo_block_complete(buf, len) == (long)len, "complete at the terminator") ;
  check(tlsinfo_block_complete(buf, len - 1) == 0, "incomplete without the terminator") ;
  check(tlsinfo_block_parse(buf, len, &out) == 0, "parse") ;
  check(!strcmp(out.protocol, "TLSv1.3") && !strcmp(out.sni, "mail.example.org") && !out.peer_cert_hash[0], "parsed fields") ;
  check(tlsinfo_block_make(&in, buf, 20) == 0, "too small a buffer is refused") ;
  {
    /* another controller's block: bare names mean unset, unknown names ignored, bytes after the terminator not ours */
    static char const other[] = "SSL_PROTOCOL=TLSv1.2\0SSL_PEER_CERT_HASH\0X_FOO=bar\0\0trailing" ;
    long n = tlsinfo_block_complete(other, sizeof(other) - 1) ;
    check(n == (long)(sizeof(other) - 1 - 8), "terminator found before trailing bytes") ;
    check(tlsinfo_block_parse(other, (size_t)n, &out) == 0 && !strcmp(out.protocol, "TLSv1.2") && !out.peer_cert_hash[0], "bare names") ;
  }
  check(tlsinfo_block_complete("\0", 1) == 1, "empty block") ;
  check(tlsinfo_block_complete("=x\0\0", 4) == -1, "value without a name is malformed") ;
  {
    char big[600] ;
    memset(big, 'a', sizeof(big)) ;
    memcpy(big, "SSL_CIPHER=", 11) ;
    big[598] = 0 ; big[599] = 0 ;
    check(tlsinfo_block_parse(big, 600, &out) == 0 && strlen(out.cipher) == sizeof(out.cipher) - 1, "long values truncated to the field") ;
  }
  {
    char hash[72] ;
    tlsinfo_hash_cert("abc", 3, hash) ;
    check(!strcmp(hash, "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "certificate hash format") ;
  }
}

static void test_sni (void)
{
  char const *env[] = {
    "CERTFILE=/d.pem", "KEYFILE=/d.key",
    "CERTFILE:mail.example.org=/m.pem", "KEYFILE:mail.example.org=/m.key",
    "CERTFILE:*.example.org=/w.pem", "KEYFILE:*.example.org=/w.key",
    "PATH=/bin", 0 } ;
  tlsconf c = { .role = TLSCONF_SERVER, .snilevel = 1 } ;
  char const *why = 0 ;
  check(tlsconf_from_env(&c, env, &why) == 0 && c.nkeypairs == 3 && c.has_default, "three keypairs") ;
  check(tlsconf_select_keypair(&c, "mail.example.org") == 1, "exact name") ;
  check(tlsconf_select_keypair(&c, "MAIL.Example.ORG.") == 1, "case and trailing dot") ;
  check(tlsconf_select_keypair(&c, "www.example.org") == 2, "wildcard, one label") ;
  check(tlsconf_select_keypair(&c, "a.b.example.org") == 0, "wildcard never covers two labels") ;
  check(tlsconf_select_keypair(&c, "example.org") == 0, "wildcard never covers the bare domain") ;
  check(tlsconf_select_keypair(&c, 0) == 0, "no SNI: default") ;
  c.snilevel = 2 ;
  check(tlsconf_select_keypair(&c, "unknown.test") == -1, "snilevel 2: no match fails") ;
  check(tlsconf_select_keypair(&c, 0) == 0, "snilevel 2: no SNI at all uses the default") ;
  c.snilevel = 0 ;
  check(tlsconf_from_env(&c, env, &why) == 0 && c.nkeypairs == 1, "snilevel 0 ignores SNI pairs") ;
  check(tlsconf_select_keypair(&c, "mail.example.org") == 0, "snilevel 0: default") ;

  check(!tlsconf_valid_sni_pattern("*.org"), "no top-level wildcard") ;
  check(!tlsconf_valid_sni_pattern("*.org="), "no top-level wildcard (env form)") ;
  check(tlsconf_valid_sni_pattern("*.example.org=/x"), "second-level wildcard") ;
  check(!tlsconf_valid_sni_pattern("a..b"), "empty label") ;
  check(!tlsconf_valid_sni_pattern("foo.*.org"), "wildcard only first") ;
  {
    char const *tld[] = { "CERTFILE:*.org=/x", "KEYFILE:*.org=/y", "CERTFILE=/a", "KEYFILE=/b", 0 } ;
    tlsconf t = { .role = TLSCONF_SERVER, .snilevel = 1 } ;
    check(tlsconf_from_env(&t, tld, &why) == -1, "a TLD wildcard is a configuration error") ;
  }
  {
    char const *nokey[] = { "CERTFILE=/a", 0 } ;
    char const *nocert[] = { "PATH=/bin", 0 } ;
    char const *nopair[] = { "CERTFILE=/a", "KEYFILE=/b", "CERTFILE:x.org=/c", 0 } ;
    tlsconf t = { .role = TLSCONF_SERVER, .snilevel = 1 } ;
    tlsconf cl = { .role = TLSCONF_CLIENT } ;
    check(tlsconf_from_env(&t, nokey, &why) == -1, "CERTFILE without KEYFILE") ;
    check(tlsconf_from_env(&t, nocert, &why) == -1, "server without certificate") ;
    check(tlsconf_from_env(&t, nopair, &why) == -1, "SNI cert without its key") ;
    check(tlsconf_from_env(&cl, nocert, &why) == -1, "client without trust anchors") ;
  }
}

static void test_env (void)
{
  char const *env[] = { "PATH=/bin", "CERTFILE=/c", "KEYFILE:x=/k", "CAFILE=/ca", "TLS_UID=5", "TLS_CIPHERS=strict", "SSL_CIPHER=old", "CERTFILEX=keep", 0 } ;
  char const *drop[] = { "SSL_CIPHER", 0 } ;
  char const *out[9] ;
  unsigned int u ;
  check(ust_env_filter(out, 9, env, 0, drop) == 2 && !strcmp(out[0], "PATH=/bin") && !strcmp(out[1], "CERTFILEX=keep") && !out[2], "TLS variables stripped") ;
  check(ust_env_filter(out, 9, env, 1, drop) == 7, "kept with -Z") ;
  check(ust_env_filter(out, 2, env, 1, 0) == -1, "too small") ;
  check(ust_uint("4294967295", &u) && u == 4294967295U, "uint max") ;
  check(!ust_uint("4294967296", &u) && !ust_uint("-1", &u) && !ust_uint("", &u) && !ust_uint("1x", &u), "uint rejects") ;
}

static void test_policy (void)
{
  unsigned int set = 0 ;
  tlsconf_ciphers c = TLSCONF_CIPHERS_COMPAT ;
  char const *why ;
  tlsconf conf ;
  char const *env[] = { "TLS_PROTOCOLS=", "TLS_CIPHERS=Strict", 0 } ;
  char const *envbad[] = { "TLS_CIPHERS=medium", 0 } ;
  check(!tlsconf_parse_protocols("tlsv1.2", &set, &why) && set == TLSCONF_TLS12, "tlsv1.2") ;
  check(!tlsconf_parse_protocols("TLSv1.3", &set, &why) && set == TLSCONF_TLS13, "TLSv1.3, case ignored") ;
  check(!tlsconf_parse_protocols("tlsv1.2:tlsv1.3", &set, &why) && set == (TLSCONF_TLS12 | TLSCONF_TLS13), "a list with ':'") ;
  check(!tlsconf_parse_protocols(" tlsv1.3, tlsv1.2 ", &set, &why) && set == (TLSCONF_TLS12 | TLSCONF_TLS13), "a list with ', '") ;
  check(!tlsconf_parse_protocols("secure", &set, &why) && set == TLSCONF_PROTOCOLS_DEFAULT, "secure") ;
  check(tlsconf_parse_protocols("tlsv1.1", &set, &why) < 0 && strstr(why, "RFC 8996"), "TLS 1.1 refused, naming RFC 8996") ;
  check(tlsconf_parse_protocols("tlsv1.2,sslv3", &set, &why) < 0, "an unknown name in a list") ;
  check(tlsconf_parse_protocols(",", &set, &why) < 0, "no name") ;
  check(tlsconf_parse_protocols("tlsv1.22", &set, &why) < 0, "a longer word") ;
  check(!tlsconf_parse_ciphers("strict", &c, &why) && c == TLSCONF_CIPHERS_STRICT, "strict") ;
  check(!tlsconf_parse_ciphers("compat", &c, &why) && c == TLSCONF_CIPHERS_COMPAT, "compat") ;
  check(!tlsconf_parse_ciphers("default", &c, &why) && c == TLSCONF_CIPHERS_COMPAT, "default is compat") ;
  check(tlsconf_parse_ciphers("HIGH:!aNULL", &c, &why) < 0, "no OpenSSL cipher strings") ;
  check(!tlsconf_policy_from_env(&conf, env, &why) && conf.protocols == TLSCONF_PROTOCOLS_DEFAULT && conf.ciphers == TLSCONF_CIPHERS_STRICT, "empty is unset; Strict") ;
  check(tlsconf_policy_from_env(&conf, envbad, &why) < 0, "a bad TLS_CIPHERS") ;
}

static void test_ocsp (void)
{
  char const *why ;
  tlsconf conf = { .role = TLSCONF_SERVER, .snilevel = 1 } ;
  char const *env[] = { "CERTFILE=/c", "KEYFILE=/k", "OCSPFILE=/o", "CERTFILE:a.example=/ca", "KEYFILE:a.example=/ka", "OCSPFILE:a.example=/oa", "CERTFILE:b.example=/cb", "KEYFILE:b.example=/kb", "OCSPFILE:b.exampl=/x", 0 } ;
  char const *bad[] = { "CERTFILE:a.example=/ca", "KEYFILE:a.example=/ka", "OCSPFILE=/o", 0 } ;
  check(!tlsconf_from_env(&conf, env, &why) && conf.nkeypairs == 3, "three pairs") ;
  check(conf.keypairs[0].ocspfile && !strcmp(conf.keypairs[0].ocspfile, "/o"), "OCSPFILE with the default pair") ;
  check(conf.keypairs[1].ocspfile && !strcmp(conf.keypairs[1].ocspfile, "/oa"), "OCSPFILE:name with its pair") ;
  check(!conf.keypairs[2].ocspfile, "OCSPFILE:name of a prefix of the name does not match") ;
  check(tlsconf_from_env(&conf, bad, &why) < 0 && strstr(why, "OCSPFILE"), "OCSPFILE without CERTFILE") ;
}

int main (void)
{
  test_ocsp() ;
  test_block() ;
  test_sni() ;
  test_env() ;
  test_policy() ;
  if (failures) { printf("%d failure(s)\n", failures) ; return 1 ; }
  printf("all unit tests passed\n") ;
  return 0 ;
}

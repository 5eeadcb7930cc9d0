/* fuzz_imap.c: libFuzzer target for the IMAP (RFC 3501) proxy before and around
   STARTTLS: interleaved client, backend and controller events drive the
   framework and imap.c in-process (input format: harness_run in proxy_harness.c). */
#include <stdint.h>
#include "proxy_harness.h"
#include "imap.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static harness_target const t =
  {
    .protocol = imap_protocol,
    .line_max = IMAP_LINE_MAX_DEFAULT,
    .line_min = 1024,
    .verb = "STARTTLS",
    .tagged = 1,
    .ok_reply = " OK Begin TLS negotiation now\r\n",
    .model = &bmodel_imap,
    .try_tls = "z STARTTLS\r\n",
    .probe_ok = "ust0000000000000000 OK\r\n"
  } ;
  return harness_run(&t, data, size) ;
}

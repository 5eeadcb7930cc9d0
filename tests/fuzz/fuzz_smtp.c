/* fuzz_smtp.c: libFuzzer target for the SMTP (RFC 3207) proxy before and around
   STARTTLS: interleaved client, backend and controller events drive the
   framework and smtp.c in-process (input format: harness_run in proxy_harness.c). */
#include <stdint.h>
#include "proxy_harness.h"
#include "smtp.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static harness_target const t =
  {
    .protocol = smtp_protocol,
    .line_max = SMTP_LINE_MAX_DEFAULT,
    .line_min = 512,
    .verb = "STARTTLS",
    .tagged = 0,
    .ok_reply = "220 2.0.0 Ready to start TLS\r\n",
    .model = &bmodel_smtp,
    .try_tls = "STARTTLS\r\n",
    .probe_ok = "250 2.0.0 Ok\r\n",
    .any_reply = "250 ok\r\n"
  } ;
  return harness_run(&t, data, size) ;
}

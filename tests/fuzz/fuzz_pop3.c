/* fuzz_pop3.c: libFuzzer target for the POP3 (RFC 2595) proxy before and around
   STARTTLS: interleaved client, backend and controller events drive the
   framework and pop3.c in-process (input format: harness_run in proxy_harness.c). */
#include <stdint.h>
#include "proxy_harness.h"
#include "pop3.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static harness_target const t =
  {
    .protocol = pop3_protocol,
    .line_max = POP3_LINE_MAX_DEFAULT,
    .line_min = 255,
    .verb = "STLS",
    .tagged = 0,
    .ok_reply = "+OK Begin TLS negotiation\r\n",
    .model = &bmodel_pop3,
    .try_tls = "STLS\r\n",
    .any_reply = ".\r\n"  /* a line "." ends every reply, one line or many */
  } ;
  return harness_run(&t, data, size) ;
}

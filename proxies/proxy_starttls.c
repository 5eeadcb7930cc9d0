/* proxy_starttls.c: the one place that decides a client's STARTTLS (STLS).
   The protocols frame the command and supply their reply texts
   (tls_answer) and, where they need one, the proof that the backend is at
   a command boundary (tls_probe); the order of the checks and what follows
   each are here, for every protocol alike (DESIGN §5). */
#include "proxy-internal.h"

/* An answer that must come after every reply still due from the backend. */
static proxy_verdict say (proxy *p, proxy_tls_answer what)
{
  if (proxy_pending(p)) return PROXY_WAIT ;
  p->proto->tls_answer(p, what) ;
  return PROXY_TAKEN ;
}

static void accept_now (proxy *p)
{
  p->proto->tls_answer(p, PROXY_TLS_ACCEPT) ;
  proxy_starttls(p) ;  /* that reply is the last cleartext byte */
}

proxy_verdict proxy_tls_request (proxy *p, int args)
{
  char const *verb = p->proto->tls_verb ;
  if (proxy_tls_active(p)) return say(p, PROXY_TLS_ALREADY) ;
  if (args) return say(p, PROXY_TLS_ARGS) ;
  if (proxy_pending(p)) return PROXY_WAIT ;  /* every earlier reply goes out first */
  if (!proxy_tls_available(p))
  {
    proxy_log(p, 1, verb, " refused: TLS not available", 0) ;
    return say(p, PROXY_TLS_UNAVAILABLE) ;
  }
  if (proxy_client_unhandled(p))
  {
    /* Commands pipelined after it would run inside TLS as if the client had
       sent them there (the CVE-2011-0411 injection): never executed, the
       connection is dropped. */
    proxy_note_injection(p) ;
    proxy_log(p, 1, verb, " refused: commands were pipelined after it (injection attempt); dropping the connection", 0) ;
    p->proto->tls_answer(p, PROXY_TLS_INJECTION) ;
    proxy_close(p) ;
    return PROXY_TAKEN ;
  }
  if (p->proto->tls_probe)
  {
    /* the backend proves it is at a command boundary first (proxy_tls_proven);
       nothing more is read from the client meanwhile */
    p->proto->tls_probe(p) ;
    proxy_client_hold(p) ;
    return PROXY_TAKEN ;
  }
  accept_now(p) ;
  return PROXY_TAKEN ;
}

void proxy_tls_proven (proxy *p, char const *failed)
{
  proxy_client_resume(p) ;
  if (failed || !proxy_tls_available(p))
  {
    proxy_log(p, 1, p->proto->tls_verb, " refused: ", failed ? failed : "TLS not available") ;
    p->proto->tls_answer(p, failed ? PROXY_TLS_PROBE_FAILED : PROXY_TLS_UNAVAILABLE) ;
    return ;
  }
  accept_now(p) ;
}

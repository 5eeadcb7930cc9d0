/* ucspitls.h: libucspitls, for applications run under a UCSPI-TLS controller
   (ucspitlsd, ucspitlsc, s6-ucspitlsd, sslserver-style controllers).

   A typical STARTTLS server:
     ucspitls u ;
     if (ucspitls_from_env(&u, envp) < 0) -> no TLS offered (errno says why)
     ... client asks for STARTTLS, reply "220 ready" is flushed ...
     if (ucspitls_start(&u, netfds, 2, &info, 60000) < 0) -> close the session
     ... now read cleartext from u.rfd, write to u.wfd ...
   Link with -lucspitls -lskarnet. */
#ifndef UCSPITLS_H
#define UCSPITLS_H

#include <stddef.h>
#include "tlsinfo.h"

typedef struct ucspitls_s {
  int ctl ;  /* SSLCTLFD: the control socket; -1 once used or closed */
  int rfd ;  /* SSLREADFD: read cleartext from the TLS engine here */
  int wfd ;  /* SSLWRITEFD: write cleartext for the TLS engine here */
  int handoff ;  /* 1: the controller accepts the direct handoff (SSLHANDOFF=1) */
} ucspitls ;

#define UCSPITLS_ZERO { .ctl = -1, .rfd = -1, .wfd = -1, .handoff = 0 }

/* Reads SSLCTLFD, SSLREADFD and SSLWRITEFD from envp and checks them:
   decimal numbers, three distinct open descriptors; and SSLHANDOFF (1 when
   it is "1": see ucspitls_handoff). Returns 0 and fills *u,
   or -1 with errno ENOENT (a variable is unset: no controller, TLS cannot be
   offered), EINVAL (malformed or not distinct) or EBADF (not open). */
extern int ucspitls_from_env (ucspitls *u, char const *const *envp) ;

/* Starts TLS. First clears O_NONBLOCK on the nnet network descriptors in
   net[] (the flag belongs to the open file, and the engine gets the same
   socket); then writes 'Y' if info is not NULL, else 'y', on the control
   socket. With info, reads the info block (at most TLSINFO_BLOCK_MAX bytes),
   stopping at its \0\0 terminator or at EOF, within timeout_ms milliseconds
   (0 = no deadline), and parses it into *info. The control socket is closed
   in every case. Returns 0, or -1 with errno: EPIPE (the controller is gone,
   or EOF before the terminator: the handshake failed), ETIMEDOUT, EPROTO (a
   malformed or oversized block), or a system error. After a failure the
   session must be closed: it can never go back to cleartext. */
extern int ucspitls_start (ucspitls *u, int const *net, unsigned int nnet, tlsinfo *info, unsigned int timeout_ms) ;

/* The direct handoff, an extension of UCSPI-TLS offered by ucspitlsd and
   ucspitlsc (u->handoff is 1): like ucspitls_start with info, but the
   application gives the engine two descriptors of its own to use in place
   of SSLREADFD and SSLWRITEFD: fdr, where the engine reads the cleartext to
   send to the peer, and fdw, where it writes the cleartext received (e.g.
   the pipes of a backend the application no longer needs to watch). It
   sends 'H' on the control socket with fdr and fdw attached (SCM_RIGHTS),
   then reads the info block. fdr and fdw stay open in the caller, which
   should close them; u->rfd and u->wfd are closed (the engine no longer uses
   them). Returns 0, or -1 as ucspitls_start, or with errno ENOTSUP when the
   controller did not offer the handoff (nothing was sent: ucspitls_start
   may still be used). */
extern int ucspitls_handoff (ucspitls *u, int const *net, unsigned int nnet, int fdr, int fdw, tlsinfo *info, unsigned int timeout_ms) ;

/* Reads an info block from fd (the control socket after 'Y', or an engine's
   -d descriptor) until its \0\0 terminator or EOF, within timeout_ms
   milliseconds (0 = no deadline; fd may be non-blocking), and parses it into
   *info. Does not close fd. Returns 0, or -1 with errno EPIPE (EOF before the
   terminator: the handshake failed), ETIMEDOUT, EPROTO (malformed or over
   TLSINFO_BLOCK_MAX bytes) or a system error. */
extern int ucspitls_read_info (int fd, tlsinfo *info, unsigned int timeout_ms) ;

/* Declines TLS: closes the control socket, telling the controller that TLS
   will not be used (its engine child exits 0). rfd and wfd are closed too. */
extern void ucspitls_decline (ucspitls *u) ;

/* Clears O_NONBLOCK on fd. Returns 0, or -1 with errno. */
extern int ucspitls_fd_block (int fd) ;

#endif

/* exitcodes.h: the exit codes every ucspi-starttls program uses (DESIGN.md §2). */
#ifndef UST_EXITCODES_H
#define UST_EXITCODES_H

enum ust_exit {
  UST_EXIT_OK = 0,         /* normal end */
  UST_EXIT_PROXYHDR = 95,  /* proxy-header: the PROXY header is missing, bad, late, or from an untrusted address */
  UST_EXIT_TLSCONF = 96,   /* TLS configuration error: key, certificate, trust anchors */
  UST_EXIT_SETUP = 97,     /* engine setup error */
  UST_EXIT_TLS = 98,       /* TLS error while running, handshake failure or timeout */
  UST_EXIT_IDLE = 99,      /* idle timeout */
  UST_EXIT_USAGE = 100,    /* usage or bad environment */
  UST_EXIT_SYS = 111       /* system call failure */
} ;

#endif

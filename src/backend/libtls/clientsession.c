/* clientsession.c: SESSIONFILE for the libtls client. libtls reads and
   writes its session (PEM) through a descriptor it is given; it gets a
   memory file holding the kept session only when the session fits (the
   binding, the lifetime: sessionfile.h), and what it writes there after a
   full handshake is kept. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "exitcodes.h"
#include "libtls-internal.h"

int libtls_client_session_setup (tlsb *s, struct tls_config *cfg)
{
  unsigned char blob[SESSIONFILE_BLOB_MAX] ;
  size_t len ;
  char const *why ;
  if (sessionfile_open(&s->sfile, s->conf, tlsb_name, &why) < 0)
  {
    libtls_seterr(s, s->conf->sessionfile, why) ;
    return UST_EXIT_TLSCONF ;
  }
  s->memfd = memfd_create("ust-session", MFD_CLOEXEC) ;
  if (s->memfd < 0 || fchmod(s->memfd, 0600) < 0) { libtls_seterr(s, "SESSIONFILE: memfd_create", strerror(errno)) ; return UST_EXIT_SYS ; }
  len = sessionfile_load(&s->sfile, blob, sizeof(blob)) ;
  if (len && pwrite(s->memfd, blob, len, 0) != (ssize_t)len) ftruncate(s->memfd, 0) ;
  explicit_bzero(blob, sizeof(blob)) ;
  if (tls_config_set_session_fd(cfg, s->memfd) < 0)
  {
    libtls_seterr(s, "SESSIONFILE", tls_config_error(cfg)) ;
    return UST_EXIT_SETUP ;
  }
  return 0 ;
}

void libtls_client_session_done (tlsb *s)
{
  unsigned char blob[SESSIONFILE_BLOB_MAX] ;
  struct stat st ;
  if (s->memfd < 0) return ;
  /* resumed: the file keeps the session as it was (its lifetime counts from its full handshake) */
  if (tls_conn_session_resumed(s->conn) == 1) s->resumed = 1 ;
  else if (fstat(s->memfd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= sizeof(blob)
    && pread(s->memfd, blob, (size_t)st.st_size, 0) == st.st_size)
    sessionfile_save(&s->sfile, blob, (size_t)st.st_size) ;
  explicit_bzero(blob, sizeof(blob)) ;
  sessionfile_close(&s->sfile) ;  /* not kept open for the hours a session may last */
}

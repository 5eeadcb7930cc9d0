/* imapc-starttls.c: IMAP STARTTLS for a plaintext client, under ucspitlsc (client.h). */
#include "client.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  cp_protocol p ;
  cp_imap(&p) ;
  return cp_main(&p, "imapc-starttls", argc, argv, envp) ;
}

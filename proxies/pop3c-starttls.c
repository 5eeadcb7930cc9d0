/* pop3c-starttls.c: POP3 STARTTLS for a plaintext client, under ucspitlsc (client.h). */
#include "client.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  cp_protocol p ;
  cp_pop3(&p) ;
  return cp_main(&p, "pop3c-starttls", argc, argv, envp) ;
}

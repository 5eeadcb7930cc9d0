/* smtpc-starttls.c: SMTP STARTTLS for a plaintext client, under ucspitlsc (client.h). */
#include "client.h"

int main (int argc, char const *const *argv, char const *const *envp)
{
  cp_protocol p ;
  cp_smtp(&p) ;
  return cp_main(&p, "smtpc-starttls", argc, argv, envp) ;
}

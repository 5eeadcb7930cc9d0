/* wrapper_exec.c: how the wrappers exec the engine and the application. */
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "exitcodes.h"
#include "ucspitls.h"
#include "ust.h"
#include "wrapper.h"

void wrapper_exec_engine (wrapper const *w, int app, int notif, int fdr, int fdw, char const *const *envp)
{
  char const *argv[WRAPPER_ENGINE_ARGS_MAX + 8] ;
  char path[4096] ;
  char fds[5][UINT_FMT], grace[UINT_FMT] ;
  char const *name = w->role == TLSCONF_SERVER ? "tlsd-io" : "tlsc-io" ;
  unsigned int n = 0 ;
  if (ust_engine_path(name, path, sizeof(path)) < 0) strerr_dief(UST_EXIT_SYS, "engine path too long") ;
  /* The flag belongs to the open file: the application may have set it on the shared socket. */
  if (ucspitls_fd_block(w->netr) < 0 || ucspitls_fd_block(w->netw) < 0)
    strerr_diefsys(UST_EXIT_SYS, "clear O_NONBLOCK on the network descriptors") ;
  argv[n++] = name ;
  for (unsigned int i = 0 ; i < w->nengine_args ; i++) argv[n++] = w->engine_args[i] ;
  if (notif >= 0)
  {
    fds[0][uint_fmt(fds[0], (unsigned int)notif)] = 0 ;
    argv[n++] = "-d" ; argv[n++] = fds[0] ;
  }
  if (w->role == TLSCONF_SERVER)
  {
    grace[uint_fmt(grace, w->grace_ms)] = 0 ;
    argv[n++] = "-g" ; argv[n++] = grace ;
  }
  if (w->role == TLSCONF_CLIENT)
  {
    fds[1][uint_fmt(fds[1], (unsigned int)w->netr)] = 0 ;
    fds[2][uint_fmt(fds[2], (unsigned int)w->netw)] = 0 ;
    argv[n++] = "-6" ; argv[n++] = fds[1] ;
    argv[n++] = "-7" ; argv[n++] = fds[2] ;
  }
  fds[3][uint_fmt(fds[3], (unsigned int)fdr)] = 0 ;
  fds[4][uint_fmt(fds[4], (unsigned int)fdw)] = 0 ;
  argv[n++] = "--" ;
  argv[n++] = fds[3] ;
  argv[n++] = fds[4] ;
  argv[n] = 0 ;
  wrapper_watch_spawn(w, app) ;
  execve(path, (char *const *)argv, (char *const *)envp) ;
  strerr_diefsys(UST_EXIT_SYS, "exec ", path) ;
}

int wrapper_prog_env (wrapper const *w, char const *const *envp, char const *const *extra, char const **out, size_t max)
{
  int k = ust_env_filter(out, max, envp, w->keep_tls_vars, ust_ucspitls_vars) ;
  if (k < 0) return -1 ;
  if (extra) for (; *extra ; extra++)
  {
    if ((size_t)k + 1 >= max) return -1 ;
    out[k++] = *extra ;
  }
  out[k] = 0 ;
  return k ;
}

void wrapper_exec_prog (wrapper const *w, char const *const *argv, char const *const *envp, char const *const *extra)
{
  size_t n = 0, nextra = 0 ;
  while (envp[n]) n++ ;
  if (extra) while (extra[nextra]) nextra++ ;
  {
    char const *env[n + nextra + 1] ;
    if (wrapper_prog_env(w, envp, extra, env, n + nextra + 1) < 0) strerr_dief(UST_EXIT_SYS, "environment too large") ;
    if (strchr(argv[0], '/')) execve(argv[0], (char *const *)argv, (char *const *)env) ;
    else execvpe(argv[0], (char *const *)argv, (char *const *)env) ;
  }
  strerr_diefsys(UST_EXIT_SYS, "exec ", argv[0]) ;
}

#!/usr/bin/env python3
"""fake-controller.py MODE PROG...: a stand-in UCSPI-TLS controller. It makes
the control socket pair and the two pipes, puts SSLCTLFD, SSLREADFD and
SSLWRITEFD in PROG's environment and execs PROG in its own process (PROG keeps
the pid and fds 0/1, as under ucspitlsd). MODE:
  gone   the controller's end of the control socket is closed before PROG
         starts: a controller that died (TLS cannot be offered)
  idle   a child keeps the controller's end open and reads one byte from it,
         then exits (it never starts TLS)
"""
import os, socket, sys

mode, prog = sys.argv[1], sys.argv[2:]
app_ctl, ctl = socket.socketpair()
eng_r, app_w = os.pipe()      # app -> engine (SSLWRITEFD is app_w)
app_r, eng_w = os.pipe()      # engine -> app (SSLREADFD is app_r)
if mode == "idle" and os.fork() == 0:
    app_ctl.close()
    for fd in (0, 1, app_w, app_r):
        os.close(fd)
    ctl.recv(1)
    os._exit(0)
ctl.close()
os.close(eng_r)
os.close(eng_w)
for fd in (app_ctl.fileno(), app_r, app_w):
    os.set_inheritable(fd, True)
env = dict(os.environ, SSLCTLFD=str(app_ctl.fileno()), SSLREADFD=str(app_r), SSLWRITEFD=str(app_w))
os.execvpe(prog[0], prog, env)

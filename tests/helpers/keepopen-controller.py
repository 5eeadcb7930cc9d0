#!/usr/bin/env python3
"""keepopen-controller.py TLSD_IO PROG...: a UCSPI-TLS controller in the style of
sslserver's: on 'Y' it runs the engine with the info block going to the control
socket, but keeps its own copy of that socket open until the engine is done, so
the application never sees EOF after the block. Readers must stop at the block's
\\0\\0 terminator. Network on 0/1, as under tcpserver."""
import os, socket, sys

engine, prog = sys.argv[1], sys.argv[2:]
to_eng_r, to_eng_w = os.pipe()
from_eng_r, from_eng_w = os.pipe()
app_ctl, my_ctl = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid:
    # the application keeps the pid
    os.close(to_eng_r); os.close(from_eng_w); my_ctl.close()
    fd = app_ctl.detach()
    for f in (fd, from_eng_r, to_eng_w):
        os.set_inheritable(f, True)
    env = dict(os.environ, SSLCTLFD=str(fd), SSLREADFD=str(from_eng_r), SSLWRITEFD=str(to_eng_w))
    os.execvpe(prog[0], prog, env)
os.close(to_eng_w); os.close(from_eng_r); app_ctl.close()
c = my_ctl.recv(1)
if c != b"Y":
    sys.exit(0 if not c else 100)
ctl = my_ctl.detach()
for f in (ctl, to_eng_r, from_eng_w):
    os.set_inheritable(f, True)
eng = os.fork()
if not eng:
    os.execv(engine, [engine, "-d", str(ctl), str(to_eng_r), str(from_eng_w)])
os.close(to_eng_r); os.close(from_eng_w)
os.waitpid(eng, 0)   # our copy of the control socket stays open all along
os.close(ctl)

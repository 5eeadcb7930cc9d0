#!/usr/bin/env python3
"""bad-ucspitls-controller.py MODE ENGINE PROG...: a UCSPI-TLS server
controller (network on 0/1, as under tcpserver) for ucspitls-check -a's
tests. It makes the two pipes and the control socket; the application keeps
the pid; a child waits for the command byte and runs ENGINE (tlsd-io) with
-d on the control socket. MODE:
  good      clears O_NONBLOCK on the network socket, execs the engine, which
            closes the control socket after the info block
  nonblock  does not clear O_NONBLOCK (the bug of smtpd-starttls-proxy's
            era, in a controller)
  keepopen  clears the flag, but runs the engine in a grandchild and keeps
            its own copy of the control socket open until the engine is done,
            as sslserver does: no EOF after the block
  appchild  a correct controller that stays the parent: the application
            is its child, so that the application cannot watch the exec
  hook      a correct controller that first runs a hook (/bin/true, without
            the network socket), then clears the flag and execs the engine
  refuse    exits 100 on 'Y', as a controller does with a command it refuses
  bigblock  no engine: writes an info block of 4150 bytes itself
  inject    no engine: writes a block whose SSL_CIPHER holds a newline and
            a forged report line
"""
import fcntl, os, socket, sys

mode, engine, prog = sys.argv[1], sys.argv[2], sys.argv[3:]
to_eng_r, to_eng_w = os.pipe()
from_eng_r, from_eng_w = os.pipe()
app_ctl, my_ctl = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if (pid != 0) == (mode != "appchild"):
    os.close(to_eng_r); os.close(from_eng_w); my_ctl.close()
    fd = app_ctl.detach()
    for f in (fd, from_eng_r, to_eng_w):
        os.set_inheritable(f, True)
    # the TLS configuration is the engine's, as ucspitlsd's -z does
    env = {k: v for k, v in os.environ.items()
           if k not in ("CERTFILE", "KEYFILE", "CAFILE", "CADIR", "TLS_UID", "TLS_GID")
           and not k.startswith(("CERTFILE:", "KEYFILE:"))}
    env.update(SSLCTLFD=str(fd), SSLREADFD=str(from_eng_r), SSLWRITEFD=str(to_eng_w))
    os.execvpe(prog[0], prog, env)
os.close(to_eng_w); os.close(from_eng_r); app_ctl.close()
c = my_ctl.recv(1)
if c != b"Y" or mode == "refuse":
    sys.exit(0 if not c else 100)
if mode in ("bigblock", "inject"):
    if mode == "bigblock":
        block = b"SSL_PROTOCOL=TLSv1.2\0SSL_CIPHER=X\0PAD=" + b"p" * 4100 + b"\0\0"
    else:
        block = b"SSL_PROTOCOL=TLSv1.2\0SSL_CIPHER=x\nPASS nonblock: forged\nSUMMARY: 9 passed, 0 warned, 0 failed\0\0"
    my_ctl.sendall(block)
    my_ctl.close()
    sys.exit(0)
if mode == "hook":
    os.waitpid(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)
if mode != "nonblock":
    for f in (0, 1):
        fl = fcntl.fcntl(f, fcntl.F_GETFL)
        fcntl.fcntl(f, fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
ctl = my_ctl.detach()
for f in (ctl, to_eng_r, from_eng_w):
    os.set_inheritable(f, True)
argv = [engine, "-d", str(ctl), str(to_eng_r), str(from_eng_w)]
if mode != "keepopen":
    os.execv(engine, argv)
eng = os.fork()
if not eng:
    os.execv(engine, argv)
os.close(to_eng_r); os.close(from_eng_w)
os.waitpid(eng, 0)   # our copy of the control socket stays open all along
os.close(ctl)

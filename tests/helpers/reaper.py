#!/usr/bin/env python3
"""reaper.py LOG PROG...: runs PROG as a child subreaper (PR_SET_CHILD_SUBREAPER),
so that every process of the sessions PROG starts that outlives its parent
(a proxy or an engine whose backend exited) is reparented here and reaped
here, never left as a zombie. Each reaped process gets one line in LOG:
"COMM PID exit CODE" or "COMM PID signal SIG" (COMM read from /proc before
reaping). SIGTERM is passed on to PROG; the reaper exits once it has no
child left, with PROG's exit code."""
import ctypes, os, signal, sys

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("reaper.py: prctl(PR_SET_CHILD_SUBREAPER) failed")
log = open(sys.argv[1], "a", buffering=1)
main = os.fork()
if main == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
signal.signal(signal.SIGTERM, lambda *_: os.kill(main, signal.SIGTERM))
code = 111
while True:
    try:
        info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        break
    if info is None:
        continue
    pid = info.si_pid
    try:
        comm = open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        comm = "?"
    os.waitpid(pid, 0)
    how = "exit" if info.si_code == os.CLD_EXITED else "signal"
    log.write("%s %d %s %d\n" % (comm, pid, how, info.si_status))
    if pid == main:
        code = info.si_status if how == "exit" else 128 + info.si_status
sys.exit(code)

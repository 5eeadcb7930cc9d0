#!/usr/bin/env python3
"""smtp-sigdfl.py PROG...: execs PROG with SIGPIPE at its default action (as
inetd-style launchers leave it; tcpserver ignores it, which would hide a
program that relies on that)."""
import os, signal, sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])

#!/usr/bin/env python3
"""loop.py -n N (-e TEXT | -f FILE) [-t SECONDS] -- CMD...: runs CMD N times in
a row (each bounded by -t), and checks that each run exits 0 and that its
stdout is exactly TEXT (\\n escapes understood) or FILE's bytes. Prints
"runs=N failures=K" and the first few failures; exits 1 if any failed.
One process for the whole loop: a thousand sessions cost no bats overhead."""
import argparse
import subprocess
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, required=True)
    p.add_argument("-e")
    p.add_argument("-f")
    p.add_argument("-t", type=float, default=20.0)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if a.f:
        with open(a.f, "rb") as f:
            expect = f.read()
    else:
        expect = a.e.encode().decode("unicode_escape").encode("latin-1")
    failures = 0
    t0 = time.monotonic()
    for i in range(a.n):
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=a.t)
            ok = r.returncode == 0 and r.stdout == expect
            why = "exit %d, %d bytes, first %r, stderr %r" % (r.returncode, len(r.stdout), r.stdout[:60], r.stderr[-300:])
        except subprocess.TimeoutExpired:
            ok = False
            why = "timed out after %.0f s" % a.t
        if not ok:
            failures += 1
            if failures <= 5:
                print("run %d failed: %s" % (i + 1, why))
    print("runs=%d failures=%d seconds=%.1f" % (a.n, failures, time.monotonic() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

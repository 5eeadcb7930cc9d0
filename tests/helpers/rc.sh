#!/bin/bash
# rc.sh FILE PROG...: runs PROG, then writes its exit code to FILE (atomically,
# so a test can wait for FILE). For programs whose parent is tcpserver.
# bash, not sh: dash drops environment entries like CERTFILE:name=... .
f=$1
shift
"$@"
rc=$?
echo "$rc" > "$f.tmp" && mv "$f.tmp" "$f"
exit "$rc"

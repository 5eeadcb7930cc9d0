#!/bin/bash
# engine-pipes.sh MODE IN OUT ENGINE [ARGS...]: runs a TLS engine with its
# application side on pipes: fdr 3 is fed from the file IN, fdw 4 is drained
# into the file OUT (OUT.done appears once OUT is complete). MODE "block"
# leaves the descriptors alone; "nb:0,1,3,4" sets O_NONBLOCK on those
# descriptors first (through setnb), as a careless parent might.
mode=$1 in=$2 out=$3
shift 3
if [ "$mode" = block ]; then
  exec "$@" 3 4 3< <(cat "$in") 4> >(cat > "$out"; echo done > "$out.done")
fi
fds=${mode#nb:}
exec "$UST_HELPERS/setnb" ${fds//,/ } -- "$@" 3 4 3< <(cat "$in") 4> >(cat > "$out"; echo done > "$out.done")

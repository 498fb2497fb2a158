#!/bin/sh
# bench/startup.sh: esad start -> first answer on the control socket
# (`esactl status`), with an empty spool and with N reports queued (the SDC
# unreachable, as when reports pile up). Interleaved A B A B rounds, min and
# median. Loopback only; stops all it starts.
#
#   BUILD=_build N=100000 ROUNDS=3 bench/startup.sh
# Target (issue 13): < 1 s with 100,000 queued.
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
N=${N:-100000}
ROUNDS=${ROUNDS:-3}

queued_states "$N"

: > "$work/A.t"; : > "$work/B.t"
for r in $(seq "$ROUNDS"); do
  for v in A B; do
    t0=$(now); esad_start "$work/$v"; esad_wait "$t0" >> "$work/$v.t"; echo >> "$work/$v.t"
    esad_stop
  done
done
a=$(stats < "$work/A.t"); b=$(stats < "$work/B.t")
printf '%-28s %10s %10s\n' "start -> first answer (s)" min median
printf '%-28s %10s %10s\n' "empty spool" $a
printf '%-28s %10s %10s\n' "$N queued" $b
echo "ratios: queued/empty $(echo "$b $a" | awk '{ printf "%.1fx", $2 / $4 }'), queued/target(1 s) $(echo "$b" | awk '{ printf "%.2f", $2 / 1.0 }')"

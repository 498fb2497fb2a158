#!/bin/sh
# bench/queue.sh: a spool of N reports filled with the agent's own enqueue —
# esad start -> first answer, `esactl queue list --limit 50` (the newest page,
# --offset N-50) and esad's RSS after listing, compared with the same esad on
# an empty spool. Interleaved A B A B rounds, min and median. Loopback only.
#
#   BUILD=_build N=100000 ROUNDS=3 bench/queue.sh
# Targets (issue 13): start < 1 s, queue list --limit < 100 ms, RSS independent
# of queue length. A build without --limit lists everything (that is the cost).
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
N=${N:-100000}
ROUNDS=${ROUNDS:-3}

queued_states "$N"

page="--limit 50 --offset $((N - 50))"
# A build without paging (before issue 13) lists everything.
cat "$BUILD/cli/.libs/esactl" "$BUILD/cli/esactl" 2>/dev/null | grep -aq 'offset M' || page=""
for v in A B; do : > "$work/$v.start"; : > "$work/$v.list"; : > "$work/$v.rss"; done
for r in $(seq "$ROUNDS"); do
  for v in A B; do
    t0=$(now); esad_start "$work/$v"; esad_wait "$t0" >> "$work/$v.start"; echo >> "$work/$v.start"
    # The first listing after a start may be slower (cold caches): time a second one.
    esactl queue list $page > /dev/null
    t0=$(now); esactl queue list $page > /dev/null; since "$t0" >> "$work/$v.list"; echo >> "$work/$v.list"
    rss_kib "$esad_pid" | awk '{ printf "%.1f\n", $1 / 1024 }' >> "$work/$v.rss"
    esad_stop
  done
done
printf '%-34s %10s %10s\n' "" min median
for v in A B; do
  name=$([ $v = A ] && echo "empty spool" || echo "$N queued")
  printf '%-34s %10s %10s\n' "$name: start -> answer (s)" $(stats < "$work/$v.start")
  printf '%-34s %10s %10s\n' "$name: queue list ${page:+--limit 50} (s)" $(stats < "$work/$v.list")
  printf '%-34s %10s %10s\n' "$name: RSS after listing (MiB)" $(stats < "$work/$v.rss")
done
sb=$(stats < "$work/B.start" | cut -d' ' -f2); lb=$(stats < "$work/B.list" | cut -d' ' -f2)
ra=$(stats < "$work/A.rss" | cut -d' ' -f2); rb=$(stats < "$work/B.rss" | cut -d' ' -f2)
echo "ratios: start/1 s $(echo "$sb" | awk '{ printf "%.2f", $1 }'), list/100 ms $(echo "$lb" | awk '{ printf "%.2f", $1 / 0.1 }'), RSS queued/empty $(echo "$rb $ra" | awk '{ printf "%.2f", $1 / $2 }')"

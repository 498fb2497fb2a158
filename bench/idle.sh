#!/bin/sh
# bench/idle.sh: esad with 5 plugins, activated (one heartbeat through TLS to
# esa-sdc), idle for IDLE_S seconds — RSS and threads — next to a minimal
# GLib + libsoup daemon (bench/idle-ref.c) idling as long, in the same rounds.
# Also esad's RSS split (anonymous vs shared library pages) and whether GIO's
# proxy modules, GSettings/dconf or the system CA bundle were loaded.
# Loopback only; stops all it starts.
#
#   BUILD=_build IDLE_S=60 ROUNDS=3 bench/idle.sh
# Target (issue 13): idle esad <= 8 MiB RSS.
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
IDLE_S=${IDLE_S:-60}
ROUNDS=${ROUNDS:-3}
cc -O2 -o "$work/idle-ref" "$top/bench/idle-ref.c" $(pkg-config --cflags --libs libsoup-3.0 gio-unix-2.0)

sdc_start "$work/sdc"
d=$work/agent
activated_state "$d" "diag heartbeat snap sysinfo uak"
: > "$work/esad.rss"; : > "$work/ref.rss"; : > "$work/esad.thr"; : > "$work/ref.thr"
for r in $(seq "$ROUNDS"); do
  esad_start "$d"; esad_wait "$(now)" >/dev/null
  esactl heartbeat >/dev/null
  rm -f "$work/ref.sock"
  "$work/idle-ref" "$work/ref.sock" & ref_pid=$!; bench_pids="$bench_pids $ref_pid"
  sleep "$IDLE_S"
  rss_kib "$esad_pid" | awk '{ printf "%.1f\n", $1 / 1024 }' >> "$work/esad.rss"; threads "$esad_pid" >> "$work/esad.thr"
  rss_kib "$ref_pid" | awk '{ printf "%.1f\n", $1 / 1024 }' >> "$work/ref.rss"; threads "$ref_pid" >> "$work/ref.thr"
  if [ "$r" = 1 ]; then
    anon=$(awk '/^Anonymous/ { print $2 }' "/proc/$esad_pid/smaps_rollup")
    modules=$(awk '{ print $6 }' "/proc/$esad_pid/maps" | grep -E 'libproxy|gnomeproxy|dconf|libgiolibproxy' | xargs -r -n1 basename | sort -u | tr '\n' ' ')
    libs=$(awk '/^[0-9a-f]+-/ { n = $6 } /^Rss:/ { if (n ~ /\.so/) s += $2 } END { printf "%.1f", s / 1024 }' "/proc/$esad_pid/smaps")
  fi
  kill "$ref_pid"; wait "$ref_pid" 2>/dev/null || true
  esad_stop
done
printf '%-44s %10s %10s\n' "idle after ${IDLE_S} s" min median
printf '%-44s %10s %10s\n' "esad, 5 plugins, activated: RSS (MiB)" $(stats < "$work/esad.rss")
printf '%-44s %10s %10s\n' "esad threads" $(stats < "$work/esad.thr")
printf '%-44s %10s %10s\n' "minimal GLib + libsoup daemon: RSS (MiB)" $(stats < "$work/ref.rss")
printf '%-44s %10s %10s\n' "minimal daemon threads" $(stats < "$work/ref.thr")
echo "esad RSS split: $(echo "$anon" | awk '{ printf "%.1f", $1 / 1024 }') MiB anonymous, $libs MiB shared-library pages; proxy/dconf modules loaded: ${modules:-none}"
e=$(stats < "$work/esad.rss" | cut -d' ' -f2); f=$(stats < "$work/ref.rss" | cut -d' ' -f2)
echo "ratios: esad/minimal $(echo "$e $f" | awk '{ printf "%.2fx", $1 / $2 }'), esad/8 MiB $(echo "$e" | awk '{ printf "%.2f", $1 / 8 }')"

#!/bin/sh
# bench/idle.sh: what idle esad costs in memory, next to the floors it is
# measured against. Four processes, started together in each round (the
# rounds interleave them: every figure of a round shares the machine's load)
# and left idle for IDLE_S seconds:
#   (a) the minimal GLib + libsoup daemon (bench/idle-ref.c), no TLS ever;
#   (b) the same daemon after ONE HTTPS GET through libsoup to esa-sdc,
#       trusting only the CA file (what any daemon doing TLS in process costs);
#   (c) esad with 5 plugins, configured for esa-sdc but NOT activated (no TLS);
#   (d) esad with 5 plugins, activated, after one heartbeat through TLS.
# Printed: RSS, PSS, private dirty and threads (min, median), then the RSS
# of the last round by group of mappings (bench/smaps-split.py) and whether
# GIO's proxy modules, GSettings/dconf or the system CA bundle were loaded.
# (b)-(a) is what TLS in a process costs, (d)-(b) esad's own excess.
# Last, what a short-lived HTTPS worker would pay per wake-up instead of
# keeping TLS in esad: CPU and wall time of `idle-ref --once` (exec, the
# libraries, TLS set-up, one handshake and GET, exit) against the CPU esad
# spends on one heartbeat once TLS is loaded (each send pass makes a new
# session, so that includes a handshake too).
# Both esads are given an existing control-group (the one of this user):
# the package creates `esa` (data/openesa.sysusers), and where the group is
# missing glibc's NSS falls through to libnss_systemd and keeps it loaded
# (0.35 MiB) for a lookup an installed esad does not make.
# PSS and the private/shared split depend on which other processes map the
# same library pages (the four share theirs): RSS is the figure to compare.
# Loopback only; stops all it starts.
#
#   BUILD=_build IDLE_S=60 ROUNDS=3 bench/idle.sh
# Target (issue 13): idle esad (d) <= 8 MiB RSS.
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
IDLE_S=${IDLE_S:-60}
ROUNDS=${ROUNDS:-3}
cc -O2 -o "$work/idle-ref" "$top/bench/idle-ref.c" $(pkg-config --cflags --libs libsoup-3.0 gio-unix-2.0)

sdc_start "$work/sdc"
activated_state "$work/d" "diag heartbeat snap sysinfo uak"
esad_conf "$work/c" "diag heartbeat snap sysinfo uak" "$(sed -n '/^\[sdc\]/,$p' "$work/d/esa.conf")"
group=$(id -gn)
sed -i "s/^\[agent\]\$/[agent]\ncontrol-group=$group/" "$work/c/esa.conf" "$work/d/esa.conf"
url="https://localhost:$sdc_port/esa/v1/config"

# sample ROW PID ROUND: the figures of one process, and a copy of its smaps.
sample () {
  cp "/proc/$2/smaps" "$work/$1.smaps.$3"
  rss_kib "$2" >> "$work/$1.rss"
  awk '/^Pss:/ { s += $2 } END { print s }' "$work/$1.smaps.$3" >> "$work/$1.pss"
  awk '/^Private_Dirty:/ { s += $2 } END { print s }' "$work/$1.smaps.$3" >> "$work/$1.pd"
  threads "$2" >> "$work/$1.thr"
}

for r in $(seq "$ROUNDS"); do
  rm -f "$work/a.sock" "$work/b.sock"
  "$work/idle-ref" "$work/a.sock" & a_pid=$!
  "$work/idle-ref" "$work/b.sock" "$url" "$work/sdc/ca.pem" > "$work/b.log" 2>&1 & b_pid=$!
  bench_pids="$bench_pids $a_pid $b_pid"
  esad_start "$work/c"; c_pid=$esad_pid; esad_wait "$(now)" >/dev/null
  esad_start "$work/d"; d_pid=$esad_pid; esad_wait "$(now)" >/dev/null
  esactl heartbeat >/dev/null
  sleep "$IDLE_S"
  grep -q 'HTTPS status' "$work/b.log" || { echo "idle-ref (b) made no HTTPS request: $(cat "$work/b.log")" >&2; exit 1; }
  sample a "$a_pid" "$r"; sample b "$b_pid" "$r"; sample c "$c_pid" "$r"; sample d "$d_pid" "$r"
  if [ "$r" = 1 ]; then
    modules=$(awk '{ print $6 }' "/proc/$d_pid/maps" | grep -E 'libproxy|gnomeproxy|dconf|libgiolibproxy' | xargs -r -n1 basename | sort -u | tr '\n' ' ')
  fi
  for p in $a_pid $b_pid $c_pid $d_pid; do kill "$p" 2>/dev/null || true; done
  for p in $a_pid $b_pid $c_pid $d_pid; do wait "$p" 2>/dev/null || true; done
done

# The wake-up cost: WAKES runs of each.
WAKES=${WAKES:-10}
python3 - "$work/idle-ref" "$url" "$work/sdc/ca.pem" "$WAKES" > "$work/once" <<'EOPY'
import os, resource, subprocess, sys, time
walls, cpus, peaks = [], [], []
for _ in range(int(sys.argv[4])):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([sys.argv[1], "--once", sys.argv[2], sys.argv[3]], check=True, stdout=subprocess.DEVNULL)
    walls.append((time.monotonic() - t0) * 1000)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    peaks.append(after.ru_maxrss / 1024)
walls.sort(); cpus.sort()
print("%.1f %.1f %.1f %.1f %.1f" % (cpus[0], cpus[len(cpus) // 2], walls[0], walls[len(walls) // 2], max(peaks)))
EOPY
esad_start "$work/d"; esad_wait "$(now)" >/dev/null
esactl heartbeat >/dev/null
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(cpu_ticks "$esad_pid")
for i in $(seq "$WAKES"); do esactl heartbeat >/dev/null; done
hb_ms=$(echo "$(cpu_ticks "$esad_pid") $t0 $(getconf CLK_TCK) $WAKES" | awk '{ printf "%.1f", ($1 - $2) * 1000 / $3 / $4 }')
esad_stop

mib () { awk '{ printf "%.1f\n", $1 / 1024 }'; }
row () { printf '%-52s %8s %8s\n' "$1" $(stats < "$2"); }
echo "idle after ${IDLE_S} s, $ROUNDS rounds, esad's control-group=$group, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-52s %8s %8s\n' "" min median
for x in a b c d; do
  case $x in
    a) name="(a) minimal GLib + libsoup daemon" ;;
    b) name="(b) minimal daemon after one HTTPS GET" ;;
    c) name="(c) esad, 5 plugins, not activated" ;;
    d) name="(d) esad, 5 plugins, activated + heartbeat" ;;
  esac
  mib < "$work/$x.rss" > "$work/$x.rss.mib"; mib < "$work/$x.pss" > "$work/$x.pss.mib"; mib < "$work/$x.pd" > "$work/$x.pd.mib"
  row "$name: RSS (MiB)" "$work/$x.rss.mib"
  row "    PSS (MiB)" "$work/$x.pss.mib"
  row "    private dirty (MiB)" "$work/$x.pd.mib"
  row "    threads" "$work/$x.thr"
done
echo
echo "RSS by group of mappings, round $ROUNDS:"
python3 "$top/bench/smaps-split.py" Rss "(a)=$work/a.smaps.$ROUNDS" "(b)=$work/b.smaps.$ROUNDS" \
  "(c)=$work/c.smaps.$ROUNDS" "(d)=$work/d.smaps.$ROUNDS"
echo "esad (d): proxy/dconf modules loaded: ${modules:-none}; system CA bundle read: $(grep -c 'ca-certificates' "$work/d.smaps.1" || true) mappings"
med () { stats < "$work/$1.rss.mib" | cut -d' ' -f2; }
read once_cpu once_cpu_med once_wall once_wall_med once_peak < "$work/once"
echo
echo "a short-lived HTTPS worker per wake-up ($WAKES runs of idle-ref --once): CPU min/median $once_cpu / $once_cpu_med ms," \
  "wall $once_wall / $once_wall_med ms, peak RSS $once_peak MiB; esad in process: $hb_ms ms of CPU a heartbeat (mean of $WAKES)"
echo "ratios: TLS in process (b)-(a) $(echo "$(med b) $(med a)" | awk '{ printf "%+.1f MiB", $1 - $2 }')," \
  "esad's own excess (d)-(b) $(echo "$(med d) $(med b)" | awk '{ printf "%+.1f MiB", $1 - $2 }')," \
  "esad without TLS (c) $(med c) MiB, esad (d)/8 MiB $(echo "$(med d)" | awk '{ printf "%.2f", $1 / 8 }')"

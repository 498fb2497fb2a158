#!/bin/sh
# bench/drain.sh: N small reports queued with the agent's own enqueue
# (bench/queue-fill.c), then esad started against esa-sdc (SQLite, a
# throw-away CA, the agent activated): the time from esad's start until the
# queue is empty and esa-sdc holds every one of the N reports (checked: N
# distinct UUIDs, those of the spool, in its database). Two set-ups, in
# interleaved A B A B rounds: A one report at a time ([transport] parallel=1),
# B the default. Also the CPU time (user + system) esad and esa-sdc spent per
# report. Loopback only; stops all it starts.
#
#   BUILD=_build N=10000 ROUNDS=3 [PARALLEL=n] bench/drain.sh
# PARALLEL= sets B's parallel= (default: none, the build's default).
# Target (issue 13): >= 2,000 reports/s. A build without parallel= ignores the
# key (a warning): A and B are then the same sender.
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
N=${N:-10000}
ROUNDS=${ROUNDS:-3}

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

sdc_start "$work/sdc"
d=$work/agent
# No plugins: nothing but the filled reports goes out.
activated_state "$d" ""
spool=$d/state/spool

# One round: fill, start esad, wait until nothing is queued, check the SDC.
drain_run () {
  v=$1
  sed -i '/^parallel=/d' "$d/esa.conf"
  grep -q '^\[transport\]' "$d/esa.conf" || echo '[transport]' >> "$d/esa.conf"
  p=$([ "$v" = A ] && echo 1 || echo "${PARALLEL:-}")
  [ -z "$p" ] || sed -i "s/^\[transport\]\$/[transport]\nparallel=$p/" "$d/esa.conf"
  fill "$spool" "$N"
  # <stamp>-<uuid>.json: the last 36 characters of the name are the uuid
  ls "$spool" | sed -n 's/\.json$//p' | awk '{ print substr($0, length($0) - 35) }' > "$work/uuids"
  [ "$(wc -l < "$work/uuids")" -eq "$N" ] || { echo "the fill left $(wc -l < "$work/uuids") reports, not $N" >&2; exit 1; }
  s0=$(cpu_ticks "$sdc_pid")
  t0=$(now); esad_start "$d"
  until esactl --json status 2>/dev/null | grep -q '"queued" *: *0[,} ]'; do
    kill -0 "$esad_pid" 2>/dev/null || { echo "esad exited; its log:" >&2; tail "$d/esad.log" >&2; exit 1; }
    sleep 0.05
  done
  t=$(since "$t0")
  e=$(cpu_ticks "$esad_pid"); s=$(($(cpu_ticks "$sdc_pid") - s0))
  esactl --json status | grep -q '"failed" *: *0[,} ]' || { echo "reports failed:" >&2; esactl queue list --failed >&2; exit 1; }
  esad_stop
  stored=$(python3 - "$work/sdc/sdc.db" "$work/uuids" <<'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
uuids = [l.strip() for l in open(sys.argv[2]) if l.strip()]
# the agent's uuids are lower case, as esa-sdc stores them: the primary key finds each
db.execute("CREATE TEMP TABLE want (uuid TEXT PRIMARY KEY)")
db.executemany("INSERT INTO want VALUES (?)", [(u.lower(),) for u in uuids])
print(db.execute("SELECT count(DISTINCT uuid) FROM reports WHERE uuid IN (SELECT uuid FROM want)").fetchone()[0])
EOP
)
  [ "$stored" -eq "$N" ] || { echo "esa-sdc holds $stored of the $N reports" >&2; exit 1; }
  echo "$N $t" | awk '{ printf "%.0f\n", $1 / $2 }' >> "$work/$v.rate"
  echo "$e $N $tck" | awk '{ printf "%.0f\n", $1 / $3 * 1e6 / $2 }' >> "$work/$v.esad"
  echo "$s $N $tck" | awk '{ printf "%.0f\n", $1 / $3 * 1e6 / $2 }' >> "$work/$v.sdc"
}

for v in A B; do : > "$work/$v.rate"; : > "$work/$v.esad"; : > "$work/$v.sdc"; done
for r in $(seq "$ROUNDS"); do drain_run A; drain_run B; done
echo "draining $N queued reports to esa-sdc (SQLite), $ROUNDS rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-56s %10s %10s\n' "" min median
for v in A B; do
  name="one at a time (parallel=1)"
  [ $v = A ] || name=$([ -n "${PARALLEL:-}" ] && echo "parallel=$PARALLEL" || echo "default")
  printf '%-56s %10s %10s\n' "$name: reports/s" $(stats < "$work/$v.rate")
  printf '%-56s %10s %10s\n' "$name: esad CPU per report (us)" $(stats < "$work/$v.esad")
  printf '%-56s %10s %10s\n' "$name: esa-sdc CPU per report (us)" $(stats < "$work/$v.sdc")
done
ra=$(stats < "$work/A.rate" | cut -d' ' -f2); rb=$(stats < "$work/B.rate" | cut -d' ' -f2)
# What the machine's cores would carry if they ran nothing but esad and esa-sdc.
ncpu=$(getconf _NPROCESSORS_ONLN)
eb=$(stats < "$work/B.esad" | cut -d' ' -f2); sb=$(stats < "$work/B.sdc" | cut -d' ' -f2)
echo "cpu bound ($ncpu cores for esad + esa-sdc only, from B's medians): $(echo "$ncpu $eb $sb" | awk '{ printf "%.0f", $1 * 1e6 / ($2 + $3) }') reports/s"
echo "ratios: default/serial $(echo "$rb $ra" | awk '{ printf "%.2fx", $1 / $2 }'), default/2,000 per s $(echo "$rb" | awk '{ printf "%.2f", $1 / 2000 }') (target >= 1.00)"

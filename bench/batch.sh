#!/bin/sh
# bench/batch.sh: what POST /esa/v1/reports saves esa-sdc: the CPU time (user + system,
# all its threads) it spends per report when N small reports (heartbeats, every tenth a
# problem) arrive one per request (A) or BATCH to a request (B, default 32), over LANES
# keep-alive TLS connections at once (default 4, the agent's lanes), each lane one
# registered system. Interleaved A B A B rounds on one esa-sdc (SQLite; PostgreSQL with
# DB=postgresql://…, and DB_PID=<postmaster pid> adds db_cpu_us, the CPU of the
# postmaster and its backends per report), every answer checked ("stored", its own uuid). Prints a row per
# round, then the medians and the ratio A/B. The client is a small Python program: its
# own cost is not measured, only the server's. Loopback only; stops all it starts.
#
#   BUILD=_build N=10000 ROUNDS=3 BATCH=32 LANES=4 bench/batch.sh
. "$(dirname "$0")/lib.sh"
need "$BUILD/sdc/esa-sdc"
N=${N:-10000}
ROUNDS=${ROUNDS:-3}
BATCH=${BATCH:-32}
LANES=${LANES:-4}
SDC_ARGS=${DB:+--db=$DB}

sdc_start "$work/sdc"

cat > "$work/client.py" <<'PY'
import http.client, json, os, ssl, sys, threading, time, uuid, base64

port, ca, pid, n, batch, lanes = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
ctx = ssl.create_default_context(cafile=ca)

def cpu_us():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1e6 / os.sysconf("SC_CLK_TCK")

def db_cpu_us():
    pm = os.environ.get("DB_PID")
    if not pm:
        return None
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            f = open("/proc/%s/stat" % name).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name == pm or f[1] == pm:
            total += (int(f[11]) + int(f[12])) * 1e6 / os.sysconf("SC_CLK_TCK")
    return total

def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)

def register(c, i):
    body = json.dumps({"version": 1, "uuid": str(uuid.uuid4()), "vendor": "IBM", "machine_type": "9009",
                       "model": "42A", "serial": "BATCH%s" % uuid.uuid4().hex[:8], "hostname": "lane%d" % i,
                       "os": "AIX", "os_version": "7.3"})
    c.request("POST", "/esa/v1/register", body, {"Content-Type": "application/json"})
    r = c.getresponse(); a = json.loads(r.read())
    assert r.status == 201, a
    return "Basic " + base64.b64encode(("%s:%s" % (a["system_id"], a["password"])).encode()).decode()

def envelope(k):
    kind = "problem" if k % 10 == 9 else "heartbeat"
    u = str(uuid.uuid4())
    return u, kind, ('{"version":1,"uuid":"%s","kind":"%s","plugin":"bench","created":"%s","parent":null,'
                     '"body":{"note":"bench"},"attachments":[]}' % (u, kind, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))

errors = []
def lane(c, auth, count, start):
    hdrs = {"Content-Type": "application/json", "Authorization": auth}
    k = 0
    while k < count:
        if batch <= 1:
            u, kind, body = envelope(start + k)
            c.request("POST", "/esa/v1/" + kind, body, hdrs)
            r = c.getresponse(); a = json.loads(r.read())
            if r.status != 200 or a.get("status") != "stored" or a.get("uuid") != u:
                errors.append(a)
            k += 1
        else:
            m = min(batch, count - k)
            reps = [envelope(start + k + j) for j in range(m)]
            c.request("POST", "/esa/v1/reports", '{"version":1,"reports":[' + ",".join(e[2] for e in reps) + "]}", hdrs)
            r = c.getresponse(); a = json.loads(r.read())
            res = a.get("results", []) if r.status == 200 else []
            if len(res) != m:
                errors.append(a)
            for (u, _, _), x in zip(reps, res):
                if x["status"] != 200 or x["answer"].get("status") != "stored" or x["answer"].get("uuid") != u:
                    errors.append(x)
            k += m

conns = [conn() for _ in range(lanes)]
auths = [register(c, i) for i, c in enumerate(conns)]
# warm: every connection has its TLS session and its credential cached
for c, a in zip(conns, auths):
    lane(c, a, 1, 0)
per = n // lanes
cpu0, db0, t0 = cpu_us(), db_cpu_us(), time.monotonic()
ts = [threading.Thread(target=lane, args=(conns[i], auths[i], per, i * per)) for i in range(lanes)]
for t in ts: t.start()
for t in ts: t.join()
t1, cpu1, db1 = time.monotonic(), cpu_us(), db_cpu_us()
total = per * lanes
print("reports=%d errors=%d reports/s=%.0f%s server_cpu_us=%.1f" % (total, len(errors), total / (t1 - t0),
      "" if db0 is None else " db_cpu_us=%.1f" % ((db1 - db0) / total), (cpu1 - cpu0) / total))
PY

echo "esa-sdc batch bench: $N reports a round, $LANES lanes, batch of $BATCH, $([ -n "${DB:-}" ] && echo PostgreSQL || echo SQLite)," \
  "$(nproc) cores; $(uptime | sed 's/.*load/load/')"
printf '%-8s %s\n' round result
: > "$work/a"; : > "$work/b"
i=1
while [ "$i" -le "$ROUNDS" ]; do
  for v in A B; do
    b=$([ "$v" = A ] && echo 1 || echo "$BATCH")
    out=$(python3 "$work/client.py" "$sdc_port" "$work/sdc/ca.pem" "$sdc_pid" "$N" "$b" "$LANES")
    printf '%-8s %s\n' "$v$i" "$out"
    case "$out" in *" errors=0 "*) ;; *) echo "bench/batch.sh: round $v$i had errors" >&2; exit 1 ;; esac
    echo "$out" | sed 's/.*server_cpu_us=//' >> "$work/$(echo $v | tr AB ab)"
    echo "$out" | sed 's/.*reports\/s=\([0-9]*\).*/\1/' >> "$work/$(echo $v | tr AB ab)-rate"
  done
  i=$((i + 1))
done
med () { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ca=$(med "$work/a"); cb=$(med "$work/b")
echo "median server CPU per report: single ${ca} us, batch of $BATCH ${cb} us; A/B $(echo "$ca $cb" | awk '{ printf "%.2f", $1 / $2 }')x" \
  "(client-bound rates: $(med "$work/a-rate")/s vs $(med "$work/b-rate")/s)"

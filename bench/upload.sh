#!/bin/sh
# bench/upload.sh: a 512 MiB attachment, submitted to esad -> stored at
# esa-sdc, against curl doing what a client must: sha256sum, POST the report,
# PUT the file, to the same esa-sdc with the same credentials. Interleaved
# A B A B rounds, min and median of MiB/s, esad's peak RSS while uploading.
# Loopback only; stops all it starts. Needs the test plugin (make check):
# tests/plugins/.libs/good.so submits a report with the file it is given
# (GOOD_SO= another build's, to measure an older esad with it).
#
#   BUILD=_build SIZE_MIB=512 ROUNDS=3 bench/upload.sh
# Targets (issue 13): >= 0.95x curl end to end; esad peak RSS <= 16 MiB.
. "$(dirname "$0")/lib.sh"
need "$BUILD/daemon/esad" "$BUILD/cli/esactl" "$BUILD/sdc/esa-sdc"
GOOD_SO=${GOOD_SO:-$BUILD/tests/plugins/.libs/good.so}
[ -f "$GOOD_SO" ] || { echo "bench/upload.sh: build the tests first (make check) or set GOOD_SO" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/upload.sh: curl not installed" >&2; exit 1; }
SIZE_MIB=${SIZE_MIB:-512}
ROUNDS=${ROUNDS:-3}

SDC_ARGS="--max-attachment=$(((SIZE_MIB + 1) * 1048576))"
sdc_start "$work/sdc"
d=$work/agent
activated_state "$d"
sed -i 's/^enabled=.*/enabled=heartbeat;good/' "$d/esa.conf"
cp "$GOOD_SO" "$d/plugins/good.so"; chmod 0755 "$d/plugins/good.so"
sid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['system_id'])" "$d/state/credentials")
pw=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['password'])" "$d/state/credentials")
sock=$(python3 -c "
import configparser,sys; c=configparser.ConfigParser(strict=False); c.read(sys.argv[1])
print(c.get('agent','socket',fallback=sys.argv[2]+'/run/esad.sock'))" "$d/esa.conf" "$d/state")
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$work/snap.bin"
url=https://localhost:$sdc_port

esad_start "$d"; esad_wait "$(now)" >/dev/null

# One python3 poller per run asks the control socket for the queue every
# 20 ms and samples esad's RSS: the earlier loop started esactl and python3 for
# every poll (~110 ms of CPU each), which took most of a core from esad and
# esa-sdc during the agent's runs only.
poll_until_sent () {
  python3 - "$sock" "$esad_pid" <<'PY'
import json, socket, sys, time
sock, pid = sys.argv[1], sys.argv[2]
def status():
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: esad\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
peak = rss()
while True:
    o = status()
    peak = max(peak, rss())
    if o["queued"] == 0:
        break
    time.sleep(0.02)
print(peak, 0 if o["failed"] == 0 else 1)
PY
}

agent_run () {
  t0=$(now)
  curl -s --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
    -d "{\"event\":\"good-event\",\"data\":{\"what\":\"bench\",\"attach\":\"$work/snap.bin\"}}" \
    http://esad/v1/jobs/good/run >/dev/null
  set -- $(poll_until_sent)
  t=$(since "$t0")
  [ "$2" = 0 ] || { echo "the agent's upload failed" >&2; esactl queue list >&2; exit 1; }
  echo "$SIZE_MIB $t" | awk '{ printf "%.1f\n", $1 / $2 }' >> "$work/agent.mibs"
  echo "$1" | awk '{ printf "%.1f\n", $1 / 1024 }' >> "$work/agent.rss"
}

curl_run () {
  uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  t0=$(now)
  sha=$(sha256sum "$work/snap.bin" | cut -d' ' -f1)
  curl -sf --cacert "$work/sdc/ca.pem" -u "$sid:$pw" -H 'Content-Type: application/json' \
    -d "{\"version\":1,\"uuid\":\"$uuid\",\"kind\":\"extended-data\",\"plugin\":\"curl\",\"created\":\"$created\",\"parent\":null,\"body\":{},\"attachments\":[{\"name\":\"snap.bin\",\"content_type\":\"application/octet-stream\",\"size\":$((SIZE_MIB * 1048576)),\"sha256\":\"$sha\"}]}" \
    "$url/esa/v1/extended-data" >/dev/null
  curl -sf --cacert "$work/sdc/ca.pem" -u "$sid:$pw" -H "X-Esa-Sha256: $sha" -H 'Content-Type: application/octet-stream' \
    -T "$work/snap.bin" "$url/esa/v1/attachment/$uuid/snap.bin" >/dev/null
  echo "$SIZE_MIB $(since "$t0")" | awk '{ printf "%.1f\n", $1 / $2 }' >> "$work/curl.mibs"
}

: > "$work/agent.mibs"; : > "$work/agent.rss"; : > "$work/curl.mibs"
for r in $(seq "$ROUNDS"); do agent_run; curl_run; done
printf '%-40s %10s %10s\n' "$SIZE_MIB MiB submit -> stored" min median
printf '%-40s %10s %10s\n' "esad (MiB/s)" $(stats < "$work/agent.mibs")
printf '%-40s %10s %10s\n' "curl: sha256 + POST + PUT (MiB/s)" $(stats < "$work/curl.mibs")
printf '%-40s %10s %10s\n' "esad peak RSS while uploading (MiB)" $(stats < "$work/agent.rss")
a=$(stats < "$work/agent.mibs" | cut -d' ' -f2); c=$(stats < "$work/curl.mibs" | cut -d' ' -f2)
p=$(stats < "$work/agent.rss" | cut -d' ' -f2)
echo "ratios: esad/curl $(echo "$a $c" | awk '{ printf "%.2fx", $1 / $2 }') (target >= 0.95x), peak RSS/16 MiB $(echo "$p" | awk '{ printf "%.2f", $1 / 16 }')"

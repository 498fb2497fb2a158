#!/usr/bin/env python3
"""test-fds.py: esad's and esa-sdc's open file descriptors return to their
start (± a few) after 1,000 requests each (issue 10 item 1: keep-alive
connections closed by the client stayed in CLOSE-WAIT for good). The
clients do what real ones do: several requests on one keep-alive
connection then close, one request then close, and a connection dropped
half-way through a request head. esad is asked over its control socket
(/v1/status, /v1/queue, /v1/plugins, and 100 runs of `esactl status`),
esa-sdc over HTTPS and plain HTTP (GET /esa/v1/config). TAP."""
import http.client
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402  (World: esa-sdc + esad on loopback)

SLACK = 4
REQUESTS = 1000


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settle(pid, start, seconds=15):
    """The count once it stops falling (the server may close lazily), at most @seconds."""
    deadline = time.monotonic() + seconds
    n = fds(pid)
    while n > start + SLACK and time.monotonic() < deadline:
        time.sleep(0.2)
        n = fds(pid)
    return n


def unix_request(path, target, keep):
    """Up to @keep requests on one keep-alive connection to the control
    socket (fewer when the server answers "Connection: close"), then the
    client closes. Returns how many were answered."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    n = 0
    for _ in range(keep):
        s.sendall(("GET %s HTTP/1.1\r\nHost: esad\r\nConnection: keep-alive\r\n\r\n" % target).encode())
        head = soak.read_http_message(s)
        if not head:
            raise RuntimeError("esad closed the connection before its answer")
        n += 1
        if b"connection: close" in head.lower():
            break
    s.close()
    return n


def half_request_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHo")
    s.close()


def main():
    results = []
    w = soak.World()
    try:
        w.start_sdc()
        w.start_esad()
        sock = os.path.join(w.state, "run", "esad.sock")
        # Warm up: first requests allocate what stays (TLS session caches, plugin state).
        w.esactl("status")
        unix_request(sock, "/v1/status", 3)
        ctx = ssl.create_default_context(cafile=os.path.join(w.sdc_dir, "ca.pem"))
        conn = http.client.HTTPSConnection("localhost", w.port, context=ctx, timeout=20)
        conn.request("GET", "/esa/v1/config")
        conn.getresponse().read()
        conn.close()
        time.sleep(0.5)

        # esad: 1,000 control requests.
        start = fds(w.esad.pid)
        done = 0
        targets = ["/v1/status", "/v1/queue", "/v1/plugins"]
        while done < REQUESTS - 100:
            kind = done % 10
            if kind < 5:
                done += unix_request(sock, targets[done % 3], 5)
            elif kind < 9:
                done += unix_request(sock, targets[done % 3], 1)
            else:
                half_request_unix(sock)
                done += 1
        for _ in range(100):
            rc, _, err = w.esactl("status")
            if rc != 0:
                raise RuntimeError("esactl status: %s" % err)
        done += 100
        end = settle(w.esad.pid, start)
        results.append((end <= start + SLACK, "esad: %d fds before, %d after %d control requests" % (start, end, done)))

        # esa-sdc: 1,000 API requests over HTTPS and plain HTTP.
        start = fds(w.sdc.pid)
        done = 0
        while done < REQUESTS:
            n = 1 + done % 7
            if done % 3 == 0:
                c = http.client.HTTPConnection("127.0.0.1", w.http_port, timeout=20)
            else:
                c = http.client.HTTPSConnection("localhost", w.port, context=ctx, timeout=20)
            for _ in range(n):
                c.request("GET", "/esa/v1/config")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError("esa-sdc answered %d" % r.status)
            c.close()
            done += n
            if done % 50 == 0:
                s = socket.create_connection(("127.0.0.1", w.port))
                s.sendall(b"\x16\x03\x01\x00")  # half a TLS record, then gone
                s.close()
                done += 1
        end = settle(w.sdc.pid, start)
        results.append((end <= start + SLACK, "esa-sdc: %d fds before, %d after %d API requests" % (start, end, done)))
        results.append((w.esactl("status")[0] == 0, "esad still answers"))
    except Exception as e:  # noqa: BLE001 - the harness failing is a failed test, with its reason
        import traceback
        traceback.print_exc(file=sys.stdout)
        print("Bail out! %s" % e)
        w.keep = True
        w.close()
        return 1
    print("1..%d" % len(results))
    for i, (ok, name) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not all(ok for ok, _ in results):
        w.keep = True
    w.close()
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test-faults.py: the fault matrix (issue 10) — one TAP test per fault,
each with real processes on loopback: a real esa-sdc, a real esad, and a
"front" (here, in Python) that stands between them as the SDC's address or
as the proxy and misbehaves on demand.

Every row: activate and deliver once through the healthy front; turn the
fault on; submit reports (`esactl inventory send`, whose answer names the
report: that is the acknowledgement); assert none reached the SDC in a way
it stored twice, every one is still in the queue and `esactl status` /
`esactl queue list` show it with the reason; end the fault; assert delivery
resumes by itself (the retry timer, no `queue send`) and each acknowledged
report is stored exactly once. Rows already proven by the C tests are named
in docs/reliability.md instead of repeated here.

Rows needing what the machine may not give (root for a tmpfs, libfaketime)
SKIP with the reason. Usage: test-faults.py [ROW...] (default: all)."""
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402  (World: esa-sdc + esad on loopback)

N_REPORTS = 3
FAKETIME_LIB = None
for d in ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime",
          "/usr/local/lib/faketime"):
    if os.path.exists(os.path.join(d, "libfaketime.so.1")):
        FAKETIME_LIB = os.path.join(d, "libfaketime.so.1")
        break


class Front:
    """A TCP listener on 127.0.0.1 in its own thread. role "server": in front
    of the SDC's HTTPS port; role "proxy": an HTTP CONNECT proxy to it. mode
    says what it does with the next connection: forward (healthy), or a fault."""

    def __init__(self, world, role):
        self.w = world
        self.role = role
        self.mode = "forward"
        self.port = soak.free_port()
        self.lsock = None
        self.stop = threading.Event()
        self.held = []
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(os.path.join(world.sdc_dir, "server.pem"),
                                 os.path.join(world.sdc_dir, "server-key.pem"))
        self.listen()
        threading.Thread(target=self.loop, daemon=True).start()

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.lsock = s

    def set_mode(self, mode):
        """"down" closes the listener (connection refused); any other mode listens."""
        self.mode = mode
        for c in self.held:
            try:
                c.close()
            except OSError:
                pass
        self.held = []
        if mode == "down" and self.lsock is not None:
            self.lsock.close()
            self.lsock = None
        elif mode != "down" and self.lsock is None:
            self.listen()

    def loop(self):
        while not self.stop.is_set():
            s = self.lsock
            if s is None:
                time.sleep(0.05)
                continue
            try:
                r, _, _ = select.select([s], [], [], 0.1)
                if not r:
                    continue
                c, _ = s.accept()
            except (OSError, ValueError):
                continue
            threading.Thread(target=self.serve, args=(c, self.mode), daemon=True).start()

    def serve(self, c, mode):
        try:
            c.settimeout(30)
            if self.role == "proxy":
                head = soak.read_http_message(c)
                if mode == "hang":
                    self.held.append(c)
                    return
                if mode == "407":
                    c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                              b"Proxy-Authenticate: Basic realm=\"soak\"\r\nContent-Length: 0\r\n\r\n")
                elif mode == "503":
                    c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                elif head.startswith(b"CONNECT "):
                    up = socket.create_connection(("127.0.0.1", self.w.port))
                    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    relay(c, up)
                else:
                    c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                c.close()
                return
            if mode == "forward":
                relay(c, socket.create_connection(("127.0.0.1", self.w.port)))
                return
            if mode == "hang":
                self.held.append(c)  # accepted, never a byte back
                return
            if mode == "plain-http":
                c.recv(65536)
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                c.close()
                return
            if mode == "tls-wrong-cert":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.w.other_cert, self.w.other_key)
                t = ctx.wrap_socket(c, server_side=True)
                t.close()
                return
            t = self.tls.wrap_socket(c, server_side=True)
            soak.read_http_message(t)
            answers = {
                "500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                "503": b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
                       b"Connection: close\r\n\r\n",
                "garbage": b"\x00\xff garbage, not HTTP \x1b[0m\r\n\r\n",
                "200-garbage": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                               b"Connection: close\r\n\r\n{not json!!",
                "redirect": ("HTTP/1.1 307 Temporary Redirect\r\nLocation: https://localhost:%d/esa/v1/inventory\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n" % self.w.port).encode(),
            }
            t.sendall(answers[mode])
            t.close()
        except (OSError, ssl.SSLError, KeyError):
            try:
                c.close()
            except OSError:
                pass


def relay(a, b):
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


class Row:
    """One world, one fault. Subclasses say how the fault starts and ends."""
    role = "server"
    esad_env = None
    timeout = "3s"

    def __init__(self):
        self.w = soak.World(state_dir=self.state_dir(), extra_conf=None)
        self.checks = []

    def state_dir(self):
        return None

    def check(self, cond, what):
        self.checks.append((bool(cond), what))
        return cond

    def conf(self, servers=None):
        w = self.w
        sections = {"sdc": {"servers": servers or "https://localhost:%d/" % self.front.port,
                            "ca-file": os.path.join(w.sdc_dir, "ca.pem"), "timeout": self.timeout}}
        if self.role == "proxy":
            sections["sdc"]["servers"] = "https://localhost:%d/" % w.port
            sections["sdc"]["direct"] = "false"
            sections["proxy.1"] = {"url": "http://127.0.0.1:%d" % self.front.port}
        w.write_conf(sections)

    def setup(self):
        w = self.w
        w.start_sdc()
        self.front = Front(w, self.role)
        self.conf()
        w.start_esad(self.esad_env)
        rc, out, err = w.esactl("activate", "--server", "https://localhost:%d/" % (
            w.port if self.role == "proxy" else self.front.port))
        if rc != 0:
            raise RuntimeError("activate: %s%s" % (out, err))
        self.check(self.submit() is not None and self.delivered_once([self.last]), "delivers before the fault")

    def submit(self):
        """`esactl --json inventory send` (docs/schemas/send.json): the report
        is acknowledged when its UUID is in delivered[] or in failed[] with
        "final": false (kept in the queue). Returns {uuid, delivered, error}
        or None (not acknowledged; self.last_err says why: error.json)."""
        rc, out, err = self.w.esactl("--json", "inventory", "send", timeout=90)
        self.last_err = err.strip()
        self.last = None
        try:
            d = json.loads(out)
        except ValueError:
            return None
        if not isinstance(d, dict):
            return None
        if isinstance(d.get("error"), dict):
            self.last_err = d["error"].get("message", "") or self.last_err
            return None
        if rc not in (0, 6, 1):
            return None
        for e in d.get("delivered", []):
            if e.get("kind") == "inventory" and e.get("uuid"):
                self.last = e["uuid"]
                return {"uuid": e["uuid"], "delivered": True, "error": ""}
        for e in d.get("failed", []):
            if e.get("kind") == "inventory" and e.get("uuid") and not e.get("final"):
                self.last = e["uuid"]
                return {"uuid": e["uuid"], "delivered": False, "error": e.get("reason", "")}
        self.last_err = "; ".join(e.get("reason", "") for e in d.get("failed", [])) or d.get("message", "") \
            or self.last_err
        return None

    def stored(self):
        counts = {}
        for r in self.w.sdc_reports():
            counts[r["uuid"]] = counts.get(r["uuid"], 0) + 1
        return counts

    def delivered_once(self, uuids, seconds=0):
        deadline = time.monotonic() + seconds
        while True:
            counts = self.stored()
            if all(counts.get(u, 0) >= 1 for u in uuids) or time.monotonic() >= deadline:
                return all(counts.get(u, 0) == 1 for u in uuids)
            time.sleep(0.5)

    def status(self):
        rc, out, _ = self.w.esactl("--json", "status")
        return json.loads(out) if rc == 0 else {}

    def queue(self):
        rc, out, _ = self.w.esactl("--json", "queue", "list")
        return json.loads(out) if rc == 0 else {"queued": [], "failed": []}

    def fault_on(self):
        raise NotImplementedError

    def fault_off(self):
        self.front.set_mode("forward")

    def run(self):
        self.setup()
        self.fault_on()
        acked = []
        for _ in range(N_REPORTS):
            d = self.submit()
            if d is not None:
                self.check(not d.get("delivered", False) or self.expect_delivery_during_fault(),
                           "not reported as delivered during the fault (%s)" % d.get("error", ""))
                acked.append(d["uuid"])
        self.check(len(acked) == N_REPORTS, "every submission acknowledged with its UUID (%d)" % len(acked))
        self.during_fault(acked)
        self.fault_off()
        ok = bool(acked) and self.delivered_once(acked, 30)
        self.check(ok, "delivery resumes after the fault: each acknowledged report stored exactly once")
        counts = self.stored()
        self.check(all(c == 1 for c in counts.values()), "nothing doubled at the SDC (%d stored)" % len(counts))
        # The SDC may have stored a report a moment before esad drops it from its spool.
        deadline = time.monotonic() + 10
        q = self.queue()
        while q.get("queued") and time.monotonic() < deadline:
            time.sleep(0.3)
            q = self.queue()
        self.check(not q.get("queued") and not q.get("failed"),
                   "queue empty, nothing rejected (%d queued, %d failed)" % (len(q.get("queued", [])),
                                                                            len(q.get("failed", []))))

    def expect_delivery_during_fault(self):
        return False

    def during_fault(self, acked):
        """None stored, all queued with a reason in queue list, counted in status."""
        counts = self.stored()
        self.check(not any(counts.get(u) for u in acked), "nothing stored during the fault")
        # A report queued while a pass ran is tried at the next retry (<= backoff-max).
        deadline = time.monotonic() + 10
        while True:
            q = self.queue()
            queued = {e["uuid"]: e for e in q.get("queued", [])}
            reasons = [queued[u].get("last_error") for u in acked if u in queued]
            if any(reasons) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.check(all(u in queued for u in acked), "every acknowledged report is in the queue")
        # A pass stops at the first report the SDC could not take (no point in
        # hammering it), so only the first tried carries last_error; esactl
        # status itself has the count, not the reason (see docs/reliability.md).
        why = [r for r in reasons if r]
        self.check(why, "queue list names the reason: %s" % (why[0] if why else "-"))
        st = self.status()
        self.check(st.get("queued", 0) >= len(acked), "esactl status counts them (%s waiting)" % st.get("queued"))
        self.check(st.get("failed", 0) == 0, "esactl status: none failed")

    def close(self):
        self.front.stop.set()
        self.front.set_mode("down")
        if not all(ok for ok, _ in self.checks):
            self.w.keep = True
        self.w.close()


def mode_row(name, mode, role="server", doc=""):
    cls = type(name, (Row,), {"role": role, "__doc__": doc,
                              "fault_on": lambda self: self.front.set_mode(mode)})
    return cls


class DnsRow(Row):
    """The SDC's name does not resolve (a name under .invalid); the fault ends
    when the admin fixes the name: SIGHUP with the corrected config."""

    def fault_on(self):
        self.conf(servers="https://sdc.soak.invalid:%d/" % self.front.port)
        self.w.esad.send_signal(signal.SIGHUP)
        time.sleep(1)

    def fault_off(self):
        self.conf()
        self.w.esad.send_signal(signal.SIGHUP)


class HupBrokenRow(Row):
    """SIGHUP with a broken config while the SDC is down: esad keeps running
    on the old config, keeps what it has, and delivers when the SDC is back."""

    def fault_on(self):
        self.front.set_mode("down")
        with open(self.w.conf, "a") as f:
            f.write("[sdc]\ntimeout=banana\n")
        self.w.esad.send_signal(signal.SIGHUP)
        time.sleep(1)
        self.check(self.w.esad.poll() is None, "esad survives SIGHUP with a broken config")

    def fault_off(self):
        self.conf()
        self.w.esad.send_signal(signal.SIGHUP)
        self.front.set_mode("forward")


class DiskFullRow(Row):
    """The state dir is a 4 MiB tmpfs, filled up: what was queued before stays
    and goes out; submissions during the fault are refused (not acknowledged)
    or kept — never acknowledged and then lost."""

    def state_dir(self):
        if os.geteuid() != 0:
            raise Skip("disk full needs root for a small tmpfs")
        self.mnt = os.path.join(os.environ.get("TMPDIR", "/tmp"), "esa-faults-tmpfs-%d" % os.getpid())
        os.makedirs(self.mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", self.mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Skip("cannot mount a tmpfs: %s" % r.stderr.strip())
        return os.path.join(self.mnt, "state")

    def fault_on(self):
        # Queue some while the SDC is away, then fill the disk.
        self.front.set_mode("down")
        self.before = [self.submit()["uuid"] for _ in range(2)]
        with open(os.path.join(self.mnt, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    def run(self):
        self.setup()
        self.fault_on()
        refused = 0
        acked = list(self.before)
        for _ in range(N_REPORTS):
            d = self.submit()
            self.why = (d or {}).get("error", self.last_err)
            if d is None or (not d.get("delivered") and "space" in d.get("error", "").lower()):
                refused += 1
            else:
                acked.append(d["uuid"])
        self.check(refused > 0, "a submission on a full disk is refused, with the reason (%d of %d: %s)" % (
            refused, N_REPORTS, self.why))
        st = self.status()
        self.check(st.get("queued", 0) >= len(self.before), "esactl status still counts the queued reports")
        os.unlink(os.path.join(self.mnt, "filler"))
        self.front.set_mode("forward")
        self.check(self.delivered_once(acked, 30), "delivery resumes: each acknowledged report stored exactly once")
        d = self.submit()
        self.check(d is not None and self.delivered_once([d["uuid"]], 30), "new submissions work again")

    def close(self):
        try:
            super().close()
        finally:
            subprocess.run(["umount", "-l", self.mnt], capture_output=True)
            shutil.rmtree(self.mnt, ignore_errors=True)


class ClockRow(Row):
    """esad under libfaketime (FAKETIME_TIMESTAMP_FILE, read on every call;
    the monotonic clock left alone): the wall clock jumps while reports wait
    for the SDC; once the SDC is back they must go out within backoff-max."""
    jump_first = None
    jump_then = None

    def setup(self):
        if FAKETIME_LIB is None:
            raise Skip("libfaketime missing (scripts/deps installs the faketime package)")
        self.tsfile = os.path.join(self.w.dir, "faketime")
        with open(self.tsfile, "w") as f:
            f.write("+0d\n")
        self.esad_env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": self.tsfile,
                         "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                         "FAKETIME_DONT_RESET": "1",
                         # under --enable-sanitizers ASan must not insist on coming first
                         "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")}
        super().setup()

    def set_clock(self, offset):
        with open(self.tsfile, "w") as f:
            f.write(offset + "\n")

    def fault_on(self):
        self.front.set_mode("down")
        self.set_clock(self.jump_first)

    def during_fault(self, acked):
        super().during_fault(acked)
        self.set_clock(self.jump_then)
        time.sleep(1)


class ClockBackRow(ClockRow):
    """+365 days, reports queued, then the clock set right again (issue 10 item 6)."""
    jump_first = "+365d"
    jump_then = "+0d"


class ClockForwardRow(ClockRow):
    """Reports queued at the right time, then the clock jumps 300 days ahead
    (not a year: esa-sdc's certificate is valid for one, and would expire)."""
    jump_first = "+0d"
    jump_then = "+300d"


class Skip(Exception):
    pass


ROWS = [
    ("sdc-down", mode_row("SdcDown", "down", doc="nothing listens on the SDC's port")),
    ("http-500", mode_row("H500", "500")),
    ("http-503-retry-after", mode_row("H503", "503")),
    ("hang-after-accept", mode_row("Hang", "hang")),
    ("garbage", mode_row("Garbage", "garbage")),
    ("200-garbage", mode_row("OkGarbage", "200-garbage")),
    ("redirect", mode_row("Redirect", "redirect")),
    ("tls-wrong-cert", mode_row("TlsWrong", "tls-wrong-cert")),
    ("plain-http", mode_row("PlainHttp", "plain-http")),
    ("proxy-down", mode_row("ProxyDown", "down", role="proxy")),
    ("proxy-407", mode_row("Proxy407", "407", role="proxy")),
    ("proxy-503", mode_row("Proxy503", "503", role="proxy")),
    ("proxy-hang", mode_row("ProxyHang", "hang", role="proxy")),
    ("dns-failure", DnsRow),
    ("disk-full", DiskFullRow),
    ("clock-back", ClockBackRow),
    ("clock-forward", ClockForwardRow),
    ("sighup-broken-config", HupBrokenRow),
]

# Known failures, each naming its issue: reported as TAP TODO (XFAIL), so a
# fix shows up as XPASS and the marker must go.
TODO = {
}


def main():
    # SIGTERM (run-test's time limit) ends our esad/esa-sdc too, through the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    wanted = sys.argv[1:] or [name for name, _ in ROWS]
    rows = [(n, c) for n, c in ROWS if n in wanted]
    other = soak.World.make_other_cert
    print("1..%d" % len(rows), flush=True)
    for i, (name, cls) in enumerate(rows, 1):
        row = None
        try:
            row = cls()
            other(row.w)
            row.run()
            ok = all(c for c, _ in row.checks)
            for c, what in row.checks:
                print("#   %s %s" % ("ok  " if c else "FAIL", what))
            todo = " # TODO %s" % TODO[name] if name in TODO else ""
            print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name, todo), flush=True)
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (i, name, e), flush=True)
        except Exception as e:  # noqa: BLE001 - a harness failure fails the row, with its reason
            import traceback
            traceback.print_exc(file=sys.stdout)
            todo = " # TODO %s" % TODO[name] if name in TODO else ""
            print("not ok %d - %s: %s%s" % (i, name, e, todo), flush=True)
        finally:
            if row is not None:
                try:
                    row.close()
                except Exception:  # noqa: BLE001
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test-sdc-ui.py: esa-sdc's read-only web view (/ui/) in a real browser.

Starts `esa-sdc serve` on 127.0.0.1, registers a system whose hostname carries a
<script> element and sends it a heartbeat, an inventory and a problem (SRN, FRU, an
attachment), then drives Debian's chromium headless over the DevTools protocol
(--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4, Python's standard
library only): a wrong password shows the login form again and no data, the right one
lists the system with the hostname shown as text (no script element, nothing ran),
and the system's page shows the problem, its FRU, service request and attachment.
The session cookie's flags are checked on the wire. TAP; skipped when chromium is not
installed. SDC_UI_SCREENSHOT=FILE.png saves a screenshot of the system's page."""
import base64
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

TOP = os.environ.get("ESA_TOP_SRCDIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ESA_TOP_BUILDDIR") or os.path.join(TOP, "_b")
SDC = os.path.join(BUILD, "sdc", "esa-sdc")
PASSWORD = "correct horse battery staple"
HOSTNAME = "<script>window.__xss=1</script>lpar7"
results = []


def check(name, cond, detail=""):
    results.append((bool(cond), name, detail))
    return bool(cond)


def finish():
    print("1..%d" % len(results))
    for i, (ok, name, detail) in enumerate(results, 1):
        print("%s %d %s%s" % ("ok" if ok else "not ok", i, name, "" if ok or not detail else " # " + detail))
    sys.exit(0 if all(r[0] for r in results) else 1)


class Sdc:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "sdc")
        subprocess.run([SDC, "init", self.dir], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([SDC, "admin-password", "--dir", self.dir], input=PASSWORD + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(tmp, "sdc.log"), "w")
        self.proc = subprocess.Popen([SDC, "serve", "--dir", self.dir, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on https://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError("esa-sdc serve printed %r" % line)
        self.port = int(m.group(1))
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.pem"))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, r.getheaders(), data

    def post_json(self, path, obj, auth=None):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
        status, _, data = self.request("POST", path, json.dumps(obj).encode(), headers)
        return status, json.loads(data or b"{}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def report(kind, body, attachments=None):
    r = {"version": 1, "uuid": str(uuid.uuid4()), "kind": kind, "plugin": "test",
         "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "body": body}
    if attachments:
        r["attachments"] = attachments
    return r


class Browser:
    """Chromium over --remote-debugging-pipe: commands on its fd 3, answers on its fd 4."""

    def __init__(self, exe, tmp, spki):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + os.path.join(tmp, "chrome"),
             # trust esa-sdc's certificate by its key only, as an agent trusts ca.pem
             "--ignore-certificate-errors-spki-list=" + spki, "--window-size=1280,900", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)

    def _read(self, timeout):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_child], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_child, 65536)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=False, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_load(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == "Page.loadEventFired":
                    del self.events[: i + 1]
                    return
            self.events.append(self._read(max(0.1, deadline - time.time())))

    def navigate(self, url):
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_load()

    def js(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        return r.get("result", {}).get("value")

    def submit_login(self, password):
        self.events.clear()
        self.js("document.querySelector('#password').value = %s; document.querySelector('form.login').submit()"
                % json.dumps(password))
        self.wait_load()

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def spki_pin(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def main():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None or shutil.which("openssl") is None:
        print("1..0 # SKIP chromium (or openssl) not installed: apt-get install chromium (scripts/deps does)")
        return
    tmp = tempfile.mkdtemp(prefix="test-sdc-ui.")
    sdc = Sdc(tmp)
    browser = None
    try:
        # a system whose agent-chosen values would be markup if not escaped
        serial = "UI%08d" % (os.getpid() % 100000000)
        status, reg = sdc.post_json("/esa/v1/register", {
            "version": 1, "uuid": str(uuid.uuid4()), "vendor": "IBM", "machine_type": "9080", "model": "HEX",
            "serial": serial, "hostname": HOSTNAME, "os": "AIX", "os_version": "7.3", "is_lpar": True})
        check("register", status == 201, "status %d" % status)
        auth = (reg["system_id"], reg["password"])
        sha = hashlib.sha256(b"snap!").hexdigest()
        check("heartbeat", sdc.post_json("/esa/v1/heartbeat", report("heartbeat", {"uptime": 5}), auth)[0] == 200)
        hb2 = report("heartbeat", {"uptime": 6})
        check("heartbeat 2", sdc.post_json("/esa/v1/heartbeat", hb2, auth)[0] == 200)
        check("inventory", sdc.post_json("/esa/v1/inventory", report("inventory", {"lslpp": []}), auth)[0] == 200)
        status, answer = sdc.post_json("/esa/v1/problem", report(
            "problem", {"srn": "651-204", "src": "B7006970", "description": "Memory <b>error</b> & more",
                        "frus": [{"part_number": "00E1234", "location": "U78AA.001-P1-C10"}]},
            [{"name": "snap.tar.gz", "size": 5, "sha256": sha, "content_type": "application/gzip"}]), auth)
        check("problem", status == 200 and answer.get("service_request", "").startswith("SR"), str(answer))
        sr = answer.get("service_request", "SR?")

        # the cookie's flags, on the wire
        status, headers, _ = sdc.request("POST", "/ui/login", b"password=" + PASSWORD.replace(" ", "+").encode(),
                                         {"Content-Type": "application/x-www-form-urlencoded"})
        cookie = dict((k.lower(), v) for k, v in headers).get("set-cookie", "")
        check("login answers 303 with a session cookie", status == 303 and cookie.startswith("esa_sdc_session="),
              "%d %s" % (status, cookie))
        for flag in ("Secure", "HttpOnly", "SameSite=Strict"):
            check("cookie is %s" % flag, ("; %s" % flag) in cookie, cookie)
        status, headers, body = sdc.request("GET", "/ui/")
        check("no session: a redirect and no data", status == 303 and serial.encode() not in body, str(status))
        status, _, body = sdc.request("GET", "/ui/", headers={"Cookie": "esa_sdc_session=" + "0" * 64})
        check("a made-up session: no data", status == 303 and serial.encode() not in body, str(status))

        # malformed input: each gets a clear answer and no data
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, body = sdc.request("POST", "/ui/login", b"password", form)
        check("login without a password value: 400", status == 400 and b"Enter the password" in body, str(status))
        status, _, _ = sdc.request("POST", "/ui/login", b"p=" + b"x" * 9000, form)
        check("an oversized login form: 413", status == 413, str(status))
        status, _, body = sdc.request("GET", "/ui/", headers={"Cookie": "=;;esa_sdc_session;=x; esa_sdc_session=\""})
        check("a garbled cookie: a redirect, no data", status == 303 and serial.encode() not in body, str(status))
        session = {"Cookie": cookie.split(";")[0]}
        status, _, body = sdc.request("GET", "/ui/?page=-3", headers=session)
        check("a bad page number: page 1", status == 200 and b"page 1 of" in body and serial.encode() in body,
              str(status))
        status, _, body = sdc.request("GET", "/ui/?page=99999999999999999999", headers=session)
        check("a huge page number: page 1", status == 200 and b"page 1 of" in body, str(status))
        status, _, _ = sdc.request("GET", "/ui/system?id=ESA-%3Cnone%3E", headers=session)
        check("an unknown system: 404", status == 404, str(status))
        status, _, _ = sdc.request("GET", "/ui/system", headers=session)
        check("a system page without id: 404", status == 404, str(status))
        status, _, _ = sdc.request("DELETE", "/ui/", headers=session)
        check("another method: 405", status == 405, str(status))

        browser = Browser(exe, tmp, spki_pin(os.path.join(sdc.dir, "server.pem")))
        base = "https://127.0.0.1:%d" % sdc.port
        browser.navigate(base + "/ui/")
        check("the browser is sent to the login form", browser.js("location.pathname") == "/ui/login",
              str(browser.js("location.href")))
        browser.submit_login("not the password")
        text = browser.js("document.body.innerText") or ""
        check("wrong password: told so", "Wrong password" in text, text[:200])
        check("wrong password: no data", serial not in text and "ESA-" not in text, text[:200])
        browser.navigate(base + "/ui/")
        check("wrong password: still no session", browser.js("location.pathname") == "/ui/login")

        browser.submit_login(PASSWORD)
        check("right password: the systems list", browser.js("location.pathname") == "/ui/",
              str(browser.js("location.href")))
        text = browser.js("document.querySelector('#systems').innerText") or ""
        check("the list shows the system", serial in text and reg["system_id"] in text and "9080-HEX" in text,
              text[:300])
        check("the hostname is shown as text", HOSTNAME in text, text[:300])
        check("no script element in the page", browser.js("document.querySelectorAll('script').length") == 0)
        check("the hostname's script did not run", browser.js("typeof window.__xss") == "undefined")
        row = browser.js("Array.from(document.querySelectorAll('#systems tbody tr')).map(r => r.innerText)"
                         ".find(t => t.includes(%s))" % json.dumps(serial)) or ""
        check("counts: 1 problem, 1 inventory, 2 heartbeats", re.search(r"\b1\s+1\s+2\s*$", row) is not None, row)
        check("LPAR yes", "\tyes\t" in row, row)

        browser.events.clear()
        browser.js("document.querySelector('a[href*=%s]').click()" % json.dumps(reg["system_id"]))
        browser.wait_load()
        check("the system's page", browser.js("location.pathname") == "/ui/system")
        problems = browser.js("document.querySelector('table.problems').innerText") or ""
        for what, needle in (("SRN/SRC", "651-204 / B7006970"), ("FRU", "00E1234 at U78AA.001-P1-C10"),
                             ("service request", sr), ("attachment", "snap.tar.gz (5 bytes, not received yet)"),
                             ("SHA-256", sha), ("escaped description", "Memory <b>error</b> & more")):
            check("problem shows its %s" % what, needle in problems, problems[:400])
        heartbeats = browser.js("Array.from(document.querySelectorAll('table.heartbeats tbody tr'))"
                                ".map(r => r.innerText)") or []
        check("two heartbeats, newest first", len(heartbeats) == 2 and hb2["uuid"] in heartbeats[0], str(heartbeats))
        check("one inventory", browser.js("document.querySelectorAll('table.inventories tbody tr').length") == 1)
        check("still no script element", browser.js("document.querySelectorAll('script').length") == 0)
        if os.environ.get("SDC_UI_SCREENSHOT"):
            browser.screenshot(os.environ["SDC_UI_SCREENSHOT"])

        browser.events.clear()
        browser.js("document.querySelector('header form').submit()")
        browser.wait_load()
        browser.navigate(base + "/ui/")
        check("after logout: the login form again", browser.js("location.pathname") == "/ui/login")
    finally:
        if browser is not None:
            browser.close()
        sdc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a failure to drive the browser is a failed test, said in one line
        check("the test ran to its end", False, "%s: %s" % (type(e).__name__, e))
    if results:
        finish()

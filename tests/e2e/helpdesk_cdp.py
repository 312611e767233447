#!/usr/bin/env python3
"""helpdesk_cdp.py: drives headless Chromium through the helpdesk page over the DevTools protocol.

Python 3 standard library only (a minimal RFC 6455 WebSocket client): nothing is downloaded at
test time. Usage:
  helpdesk_cdp.py BASE_URL USER PASSWORD MESSAGE_ID EXPECTED_RECIPIENTS ARTIFACT_DIR [ENVID SECRET]
EXPECTED_RECIPIENTS is "rcpt=state,rcpt=state,...". Prints "ok   ..." / "FAIL ..." lines; exit 1 on
any failure. Screenshots go to ARTIFACT_DIR/helpdesk-*.png.
"""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

CHROMIUM = os.environ.get("MTRK_CHROMIUM", "/usr/bin/chromium")


class WebSocket:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("websocket: handshake closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket: handshake refused: %r" % head[:200])

    def send(self, text):
        data = text.encode()
        header = bytearray([0x81])
        n = len(data)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise RuntimeError("websocket: closed")
            buf += chunk
        return buf

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping: answer is optional for our short session
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="mtrk-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + self.profile, "--remote-debugging-port=0",
             "--ignore-certificate-errors", "--window-size=1280,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"eval {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expr, seconds=20):
        """Polls a JS condition against a deadline (the page fetches asynchronously)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.eval(expr):
                return True
            time.sleep(0.1)
        return False

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    base, user, password, message_id, expected, artifacts = sys.argv[1:7]
    want = dict(pair.split("=", 1) for pair in expected.split(","))
    os.makedirs(artifacts, exist_ok=True)
    failures = 0

    def check(name, cond, detail=""):
        nonlocal failures
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f" ({detail})"), flush=True)
        failures += 0 if cond else 1
        return cond

    b = Browser()
    try:
        b.goto(base + "/")
        check("sign-in form shown to a stranger", b.wait_for("!document.querySelector('#login').hidden"))
        b.eval(f"document.querySelector('#login-form [name=name]').value = {json.dumps(user)};"
               f"document.querySelector('#login-form [name=password]').value = {json.dumps(password)};"
               "document.querySelector('#login-form button').click(); true")
        check("signed in: search form shown", b.wait_for("!document.querySelector('#search').hidden"))
        check("user and role shown", user in (b.eval("document.querySelector('#who').textContent") or ""))
        check("time zone named on the form",
              "stored in UTC" in (b.eval("document.querySelector('#zone-hint').textContent") or ""))

        b.eval(f"document.querySelector('#search-form [name=message_id]').value = {json.dumps(message_id)};"
               "document.querySelector('#search-form button[type=submit]').click(); true")
        found = b.wait_for("document.querySelectorAll('#results-table tbody tr').length > 0")
        err = b.eval("document.querySelector('#error').textContent")
        check("search by Message-ID finds the message", found, err)
        b.screenshot(os.path.join(artifacts, "helpdesk-search.png"))
        check("search URL is shareable", "message_id=" in b.eval("location.search"))
        check("no stray 'More results' button on a one-page answer", b.eval("$('#more').offsetParent === null"))
        key = b.eval("document.querySelector('#results-table tbody tr').dataset.key") or ""
        print("note: message key " + key + (" (FindByMessageId fallback)" if key.startswith("mid:")
              else " (collector StaffSearch)"), flush=True)
        # Substring search needs the collector's StaffSearch; 501 with a clear message otherwise.
        r = b.eval("fetch('/api/v1/messages?sender=a.example&match=substring')"
                   ".then(async r => [r.status, await r.text()])")
        if r[0] == 501:
            check("substring search without StaffSearch: clear 501", "does not implement StaffSearch" in r[1], r)
        else:
            check("substring search on sender finds messages", r[0] == 200 and '"message_key"' in r[1], r)
        if not found:
            return 1

        b.eval("document.querySelector('#results-table tbody tr').click(); true")
        opened = b.wait_for("location.pathname === '/message' && "
                            "document.querySelectorAll('#recipients tbody tr').length > 0")
        check("one click opens the timeline", opened, b.eval("document.querySelector('#error').textContent"))
        rows = b.eval("[...document.querySelectorAll('#recipients tbody tr')].map(r => "
                      "[r.dataset.recipient, r.querySelector('.state').textContent, "
                      "r.querySelector('.where-now').textContent])") or []
        got = {r[0]: r[1] for r in rows}
        for rcpt, state in want.items():
            check(f"recipient row {rcpt}: {state}", got.get(rcpt) == state, f"got {got.get(rcpt)}")
        check("every recipient has a 'where it is now' line", all(r[2] for r in rows), rows)
        hops = b.eval("document.querySelectorAll('#hops tr.hop-row').length")
        check("per-recipient hop rows shown", hops and hops >= len(want), hops)
        check("shareable link and exports",
              b.eval("document.querySelector('#share').href.includes('/message?key=') && "
                     "document.querySelector('#msg-csv').href.includes('format=csv')"))
        b.screenshot(os.path.join(artifacts, "helpdesk-timeline.png"))

        # The shareable link works on its own (fresh navigation, same session).
        link = b.eval("document.querySelector('#share').href")
        b.goto(link)
        check("shareable link reopens the timeline",
              b.wait_for("document.querySelectorAll('#recipients tbody tr').length == %d" % len(rows)))

        # Hostile input in every field: a clear error, never markup in the page.
        for field, value in [("sender", "<script>alert(1)</script>"),
                             ("recipient", "x' OR '1'='1"),
                             ("message_id", "<a b>"),
                             ("envid", "x;DROP TABLE helpdesk_users"),
                             ("queue_id", "1D4B'--"),
                             ("sender", "a" * 600)]:
            b.goto(base + "/?" + urllib.parse.urlencode({field: value}))
            shown = b.wait_for("document.querySelector('#error').textContent.length > 0", 10)
            text = b.eval("document.querySelector('#error').textContent") or ""
            check(f"bad {field} gets a clear error", shown and field in text, text)
            check(f"bad {field} injects no markup",
                  b.eval("document.querySelectorAll('script:not([src])').length === 0"))
        # Fields the page only offers as pickers, straight at the API with the same session.
        for query, want_text in [("from=2026-02-30T25:61Z", "from: not a date-time with zone"),
                                 ("sender=a@b&to=tomorrow", "to: not a date-time with zone"),
                                 ("sender=a@b&status=lost%27", "status: not one of"),
                                 ("sender=a@b&match=regex", "match: not one of"),
                                 ("sender=a@b&page_size=1e9", "page_size: not a number")]:
            text = b.eval(f"fetch('/api/v1/messages?{query}').then(r => r.status + ' ' + r.text())")
            text = b.eval(f"fetch('/api/v1/messages?{query}').then(r => r.text())")
            check(f"bad {query.split('&')[-1].split('=')[0]} gets a clear error", want_text in text, text)
        b.screenshot(os.path.join(artifacts, "helpdesk-bad-input.png"))

        if len(sys.argv) > 8:  # the originator's page: ENVID and secret, the MTQP answer
            envid, secret = sys.argv[7:9]
            b.goto(base + "/track")
            b.eval(f"document.querySelector('#track-form [name=envid]').value = {json.dumps(envid)};"
                   f"document.querySelector('#track-form [name=secret]').value = {json.dumps(secret)};"
                   "document.querySelector('#track-form button').click(); true")
            check("originator: tracking information shown",
                  b.wait_for("!document.querySelector('#track-body').hidden"),
                  b.eval("document.querySelector('#track-result').textContent"))
            body = b.eval("document.querySelector('#track-body').textContent") or ""
            check("originator: RFC 3886 tracking-status body", "Action: delivered" in body, body[:300])
            b.screenshot(os.path.join(artifacts, "helpdesk-track.png"))
            b.eval("document.querySelector('#track-form [name=secret]').value = 'd3Jvbmctc2VjcmV0LXdyb25n';"
                   "document.querySelector('#track-body').hidden = true;"
                   "document.querySelector('#track-form button').click(); true")
            check("originator: wrong secret gets MTQP's noinfo",
                  b.wait_for("document.querySelector('#track-result').textContent.includes('-ERR/noinfo')"))
    finally:
        b.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

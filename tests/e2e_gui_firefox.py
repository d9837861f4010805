"""`snntb gui` in headless Firefox, driven through WebDriver BiDi (built
into Firefox, so no geckodriver is needed; Debian does not package it).

Checks what the Chromium test checks of the settings page in a second
engine: the form is built from the schema, and an invalid value is marked
with the config parser's message as the user types.  Saves a screenshot.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import websocket


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Bidi:
    def __init__(self, port):
        self.n = 0
        for _ in range(240):
            try:
                # Firefox refuses WebSocket clients that send an Origin.
                self.ws = websocket.create_connection(
                    "ws://127.0.0.1:%d/session" % port, timeout=30,
                    suppress_origin=True)
                return
            except OSError:
                time.sleep(0.5)
        fail("Firefox's WebDriver BiDi endpoint never answered")

    def cmd(self, method, params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method,
                                 "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.n:
                if m.get("type") == "error":
                    fail("%s: %s" % (method, m.get("message")))
                return m["result"]

    def eval(self, ctx, expr):
        r = self.cmd("script.evaluate", {"expression": expr,
                                         "target": {"context": ctx},
                                         "awaitPromise": True})
        return r["result"].get("value")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--browser", required=True)
    ap.add_argument("--wd", required=True)
    ap.add_argument("--shots", required=True)
    a = ap.parse_args()
    os.makedirs(a.shots, exist_ok=True)
    gui = subprocess.Popen([a.cli, "gui", "--wd", a.wd, "--port", "0"],
                           stdout=subprocess.PIPE, text=True)
    ff = None
    profile = tempfile.TemporaryDirectory()
    try:
        line = gui.stdout.readline()
        m = re.search(r"http://\S+", line)
        if not m:
            fail("snntb gui printed no URL: %r" % line)
        url = m.group(0)
        port = 9300 + os.getpid() % 500
        ff = subprocess.Popen([a.browser, "--headless", "--remote-debugging-port",
                               str(port), "--profile", profile.name,
                               "--window-size", "1280,1400"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        b = Bidi(port)
        b.cmd("session.new", {"capabilities": {}})
        ctx = b.cmd("browsingContext.getTree", {})["contexts"][0]["context"]
        b.cmd("browsingContext.navigate", {"context": ctx, "url": url,
                                           "wait": "complete"})
        rows = 0
        for _ in range(120):
            rows = b.eval(ctx, "document.querySelectorAll('[id^=row-]').length")
            if rows > 50:
                break
            time.sleep(0.25)
        if rows <= 50:
            fail("the settings form has %d rows" % rows)
        b.eval(ctx, "(function(){var i=document.querySelector("
                    "'#row-simulation-duration input'); i.value='abc';"
                    "i.dispatchEvent(new Event('input',{bubbles:true}));"
                    "return 1})()")
        cls = err = ""
        for _ in range(40):
            cls = b.eval(ctx, "document.getElementById("
                              "'row-simulation-duration').className")
            if "invalid" in cls:
                err = b.eval(ctx, "document.querySelector("
                                  "'#row-simulation-duration .err').textContent")
                break
            time.sleep(0.25)
        if "must be an integer" not in err:
            fail("invalid duration shown as %r (class %r)" % (err, cls))
        shot = os.path.join(a.shots, "firefox_settings_invalid.png")
        data = b.cmd("browsingContext.captureScreenshot", {"context": ctx})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        agent = b.eval(ctx, "navigator.userAgent")
        print("%s: %d setting rows; invalid duration marked (%s); screenshot %s"
              % (agent, rows, err, shot))
    finally:
        if ff:
            ff.kill()
            ff.wait(timeout=30)
        gui.terminate()
        gui.wait(timeout=30)
        profile.cleanup()


if __name__ == "__main__":
    main()

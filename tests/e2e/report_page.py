#!/usr/bin/env python3
"""Opens a report page from disk in headless Chromium, as a person would, and tells what it shows.

    report_page.py PAGE.html --screenshot OUT.png [--zoom-screenshot OUT2.png] [--full-screenshot OUT3.png]
                   [--chromium PATH]

Drives Chromium through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON messages
ending in a NUL byte on file descriptors 3 and 4), so no extra Python package is needed. Prints one
JSON object on stdout:
  open_ms         navigation start to the second animation frame after the load event (parsed,
                  laid out, painted once)
  console         every console message, JavaScript exception and browser log entry of level
                  error or warning (a blocked network request, a CSP violation, a broken image...)
  ids             {id: text} of every element whose id starts with run-, render-
  attributes      {id: {data-*: value}} of the same elements
  series          [{id of the svg, data-series, data-points, data-y-min, data-y-max}] of every curve
  images          number of <img> elements
  broken_images   how many of them fail to decode: after the screenshots every picture is loaded
                  eagerly (the pages mark them loading="lazy", so those below the first screen would
                  otherwise never be fetched) and decoded (HTMLImageElement.decode()); one without a
                  source counts as broken
  decoded_images  how many decoded (images - broken_images when every one was tried)
  external        URLs of resources the page asked for that are not data: (must be none)
  zoomed          after clicking the first enlargeable picture: is the enlarged view shown, and its size
Exit status 0 when the page was opened; 2 when Chromium could not be driven.
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


class DevTools:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():
            # The protocol pipes must be descriptors 3 (commands in) and 4 (responses out).
            os.dup2(to_chrome_r, 100)
            os.dup2(from_chrome_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--disable-component-update", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1440,1000",
                "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, preexec_fn=wire, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self.receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def receive(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the protocol pipe: "
                                       + self.proc.stderr.read().decode(errors="replace")[-2000:])
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self.receive(deadline)
            if e.get("method") == method:
                return e
            self.events.append(e)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


COLLECT = r"""
(() => {
  const ids = {}, attributes = {};
  for (const el of document.querySelectorAll('[id^="run-"], [id^="render-"]')) {
    ids[el.id] = el.textContent.trim();
    const data = {};
    for (const a of el.attributes) if (a.name.startsWith('data-')) data[a.name] = a.value;
    attributes[el.id] = data;
  }
  const series = [...document.querySelectorAll('svg path[data-series]')].map(p => ({
    chart: p.closest('svg').id, series: p.getAttribute('data-series'),
    points: +p.getAttribute('data-points'), y_min: p.getAttribute('data-y-min'), y_max: p.getAttribute('data-y-max')}));
  const imgs = [...document.querySelectorAll('main img')];  // not the (empty) enlarged view
  const external = performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith('data:'));
  return {ids, attributes, series, images: imgs.length, external,
          title: document.title, zoomable: document.querySelectorAll('img[data-zoom]').length};
})()
"""

# Every picture of the page, loaded now whatever its loading attribute, and decoded: counts the ones
# that fail (a missing file, a truncated PNG, no src at all). decode() resolves once the image is
# decodable and rejects when it is not; a failure to fetch rejects too.
DECODE_ALL = r"""
(async () => {
  const imgs = [...document.querySelectorAll('main img')];
  const results = await Promise.allSettled(imgs.map(i => {
    if (!i.getAttribute('src')) return Promise.reject(new Error('no src'));
    i.loading = 'eager';
    return i.decode().then(() => { if (!i.naturalWidth) throw new Error('empty'); });
  }));
  const failed = results.map((r, k) => r.status === 'rejected' ? imgs[k].getAttribute('src') : null).filter(x => x !== null);
  return {decoded_images: results.length - failed.length, broken_images: failed.length,
          broken_sources: failed.slice(0, 5).map(s => s.slice(0, 120))};
})()
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--zoom-screenshot")
    parser.add_argument("--full-screenshot", help="the whole page, not just the first screen")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    a = parser.parse_args()
    if not a.chromium:
        print("report_page.py: no chromium", file=sys.stderr)
        return 2
    profile = tempfile.mkdtemp(prefix="facetrain-chromium-")
    tools = DevTools(a.chromium, profile)
    out = {}
    try:
        targets = tools.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        tools.session = tools.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                   session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            tools.send(f"{domain}.enable")
        tools.send("Emulation.setDeviceMetricsOverride", {"width": 1440, "height": 1000, "deviceScaleFactor": 1,
                                                          "mobile": False})
        tools.events.clear()
        url = "file://" + os.path.abspath(a.page)
        tools.send("Page.navigate", {"url": url})
        tools.wait_event("Page.loadEventFired")
        out["open_ms"] = tools.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))")
        out.update(tools.evaluate(COLLECT))
        shot = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        if a.full_screenshot:
            height = min(16000, tools.evaluate("document.documentElement.scrollHeight"))
            shot = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                         "clip": {"x": 0, "y": 0, "width": 1440, "height": height,
                                                                  "scale": 1}})
            with open(a.full_screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        # Click the first enlargeable picture, as a person would.
        out["zoomed"] = tools.evaluate(r"""
          new Promise(r => {
            const img = document.querySelector('img[data-zoom]');
            if (!img) return r(null);
            img.scrollIntoView();
            img.click();
            const big = document.querySelector('#lightbox img');
            const done = () => r({shown: !document.getElementById('lightbox').hidden,
                                  width: big.naturalWidth, height: big.naturalHeight,
                                  caption: document.querySelector('#lightbox figcaption').textContent});
            if (document.getElementById('lightbox').hidden || (big.complete && big.naturalWidth)) return done();
            big.onload = done; big.onerror = done; setTimeout(done, 5000);
          })""")
        if a.zoom_screenshot and out["zoomed"]:
            shot = tools.send("Page.captureScreenshot", {"format": "png"})
            with open(a.zoom_screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        out.update(tools.evaluate(DECODE_ALL))  # after the screenshots and timing: it loads every picture
        time.sleep(0.2)
        tools.send("Runtime.evaluate", {"expression": "1"})  # flush pending events
        console = []
        for e in tools.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                console.append({"console": p["type"], "text": " ".join(str(x.get("value", x.get("description")))
                                                                       for x in p.get("args", []))})
            elif m == "Runtime.exceptionThrown":
                console.append({"exception": p["exceptionDetails"].get("text"),
                                "detail": p["exceptionDetails"].get("exception", {}).get("description")})
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                console.append({"log": p["entry"]["level"], "source": p["entry"].get("source"),
                                "text": p["entry"].get("text"), "url": p["entry"].get("url")})
        out["console"] = console
    except (RuntimeError, TimeoutError, StopIteration) as e:
        print(f"report_page.py: {e}", file=sys.stderr)
        return 2
    finally:
        tools.close()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

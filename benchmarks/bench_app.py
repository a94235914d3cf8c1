"""Review app latency in Chromium: from pressing submit to the next item shown.

    .venv/bin/python benchmarks/bench_app.py [--items 60] [--dir DIR]

Builds the digits demo (or reuses DIR), serves a copy of its project with a fresh SQLite
store, logs in as alice in Debian's Chromium (Playwright) and answers ``--items`` items by
keyboard, over both tasks (neuron cards, then attribution maps). For each submit it measures
the time from the Enter key (``window.__irSubmitAt``, set by the form) to the moment both
the form and the viewer show the next item (polled every animation frame). The baseline is
a bare Panel round trip measured in the same browser: a component that sends a message to
Python and gets the next item's address back, with no storage and no rendering. Prints one
JSON object; the goal is p95 under 120 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

# Both the form and the viewer show an item other than `previous` (or the form says the
# queue is done): return the time.
SHOWN = """previous => {
  const deep = (root, sel) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const found = deep(el.shadowRoot, sel); if (found) return found; }
    }
    return null;
  };
  const form = window.__irShown;
  if (!form || form.key === previous) return false;
  if (form.key === null) return performance.now();  // the queue is done
  const viewer = deep(document, '.ir-viewer');
  if (!viewer || viewer.dataset.address !== form.key) return false;
  return performance.now();
}"""

ECHO_APP = textwrap.dedent(
    """
    import panel as pn, param
    from panel.custom import JSComponent

    class Echo(JSComponent):
        item = param.Integer(default=0)
        _esm = '''
        export function render({ model }) {
          const el = document.createElement("div");
          const show = () => { el.textContent = String(model.item);
                               window.__echoShown = performance.now(); };
          model.on("item", show); show();
          document.addEventListener("keydown", (e) => {
            if (e.key === "Enter") { window.__echoAt = performance.now();
                                     model.send_msg({ item: model.item }); }
          });
          return el;
        }'''
        def _handle_msg(self, msg):
            self.item = msg["item"] + 1

    pn.serve({"echo": lambda: Echo()}, port=int(__import__("sys").argv[1]), address="127.0.0.1",
             show=False, websocket_origin=["127.0.0.1:" + __import__("sys").argv[1]])
    """
)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _summary(ms: list[float]) -> dict[str, float]:
    values = np.asarray(ms)
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def bench_app(page, url: str, items: int) -> list[tuple[str, float]]:
    page.goto(url + "/review")
    page.fill("#username", "alice")
    page.fill("#password", "alice-demo")
    page.click("button[type=submit]")
    page.locator("form.ir-form").wait_for(timeout=60_000)
    page.wait_for_function(SHOWN, arg="", polling="raf")
    times: list[tuple[str, float]] = []  # (item kind, ms)
    maps_task = False
    while len(times) < items:
        previous = page.evaluate("window.__irShown.key")
        if previous is None:  # the neuron task is done: go on with the attribution maps
            if maps_task:
                break
            page.get_by_label("Task").select_option(label="Rate attribution maps")
            page.wait_for_function("(window.__irShown.key || '').startsWith('attribution:')")
            page.wait_for_function(SHOWN, arg="", polling="raf")
            maps_task = True
            continue
        if previous.startswith("neuron:"):
            page.keyboard.press("l")
            page.keyboard.type("a stroke")
            page.keyboard.press("Escape")
            page.keyboard.press("q")
            page.keyboard.press("3")
        else:
            for key in "ypnyypny"[: page.locator(".ir-form .rating").count()]:
                page.keyboard.press(key)
        page.keyboard.press("Enter")
        shown = page.wait_for_function(SHOWN, arg=previous, polling="raf").json_value()
        times.append((previous.split(":")[0], shown - page.evaluate("window.__irSubmitAt")))
    return times


def bench_echo(page, items: int) -> list[float]:
    port = _port()
    process = subprocess.Popen(
        [sys.executable, "-c", ECHO_APP, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/echo", process)
        page.goto(f"http://127.0.0.1:{port}/echo")
        page.wait_for_function("window.__echoShown !== undefined")
        times = []
        for _ in range(items):
            before = page.evaluate("window.__echoShown")
            page.keyboard.press("Enter")
            page.wait_for_function(f"window.__echoShown !== {before}", polling="raf")
            times.append(page.evaluate("window.__echoShown - window.__echoAt"))
        return times
    finally:
        _stop(process)


def main(argv: list[str] | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    from interpret_review.demo import build_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--dir", type=Path, help="the demo folder (default: a temporary one)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    demo = build_demo(args.dir or tmp / "demo", progress=False)
    project = tmp / "bench.toml"
    run = (demo.parent / "runs" / "digits.h5").resolve()
    project.write_text(demo.read_text().replace('"runs/digits.h5"', f'"{run}"'))
    port = _port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INTERPRET_REVIEW_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "interpret_review.cli", "serve", str(project)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait(url + "/login", server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            app = bench_app(page, url, args.items)
            echo = bench_echo(browser.new_page(), args.items)
            version = browser.version
            browser.close()
    finally:
        _stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
    out = {
        "benchmark": "app",
        "chromium": version,
        "submit_to_next_item": _summary([ms for _, ms in app]),
        "by_kind": {
            kind: _summary([ms for k, ms in app if k == kind])
            for kind in sorted({k for k, _ in app})
        },
        "bare_panel_round_trip": _summary(echo),
        "p50_over_bare": round(statistics.median(ms for _, ms in app) / statistics.median(echo), 2),
        "goal_p95_ms": 120,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return out


if __name__ == "__main__":
    main()

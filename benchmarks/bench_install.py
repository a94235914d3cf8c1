"""What installing interpret-review costs: size and packages of each extra, import and
server start times, from a wheel in fresh virtual environments.

    .venv/bin/python benchmarks/bench_install.py [--extras app,core] [--baseline REF]

Builds the wheel of this checkout (and, with ``--baseline``, of a git revision, the same
way) and installs it into a fresh venv per extra. For each: the size of site-packages
(pip and setuptools excluded, as in any venv), the number of distributions, the time to
``import interpret_review.app`` (median of five fresh processes, ``-X importtime``'s total
and the wall clock) and, for ``app``, the time from starting ``interpret-review serve`` on
the digits demo (built here by this Python) to its first HTTP answer, on a new project and
on a restart (median of three).
Prints one JSON object. Goals (issue 15): ``[app]`` <= 600 MB, import <= 1.5 s, start <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"pip", "setuptools", "wheel"}


def sh(*args: object, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def build_wheel(source: Path, out: Path) -> Path:
    """The wheel, built from the sdist (so no stale ``build/`` of the tree can leak in)."""
    sh(sys.executable, "-m", "build", "--outdir", out, source, cwd=source)
    return max(out.glob("*.whl"), key=lambda p: p.stat().st_mtime)


def install(wheel: Path, extras: str, where: Path) -> Path:
    sh(sys.executable, "-m", "venv", where)
    target = f"{wheel}[{extras}]" if extras != "core" else str(wheel)
    sh(where / "bin" / "python", "-m", "pip", "install", "--quiet", target)
    return where / "bin"


def footprint(bin: Path) -> dict[str, Any]:
    code = (
        "import importlib.metadata as m, json, os, sysconfig\n"
        "site = sysconfig.get_paths()['purelib']\n"
        f"tools = {sorted(TOOLS)!r}\n"
        "dists = [d for d in m.distributions() if d.metadata['Name'].lower() not in tools]\n"
        "size = 0\n"
        "for d in dists:\n"
        "    for f in d.files or []:\n"
        "        p = d.locate_file(f)\n"
        "        if os.path.isfile(p): size += os.path.getsize(p)\n"
        "print(json.dumps({'mb': round(size / 2**20), 'packages': len(dists),\n"
        "    'names': sorted(d.metadata['Name'] for d in dists)}))\n"
    )
    return dict(json.loads(sh(bin / "python", "-c", code, cwd=bin.parent)))


def import_seconds(bin: Path, module: str, repeat: int = 5) -> dict[str, float]:
    wall, total = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(  # from the venv's folder: -c puts the working directory first
            [str(bin / "python"), "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=bin.parent,
        )
        wall.append(time.perf_counter() - started)
        last = [line for line in out.stderr.splitlines() if line.endswith(f"| {module}")]
        total.append(int(last[-1].split("|")[1]) / 1e6)
    return {
        "wall_s": round(statistics.median(wall), 3),
        "import_s": round(statistics.median(total), 3),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _first_answer(bin: Path, project: Path) -> float:
    """Seconds from starting ``serve`` on ``project`` to its first answer on /login."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(bin / "interpret-review"), "serve", str(project), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=project.parent,
    )  # fmt: skip
    try:
        while time.perf_counter() < started + 120:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).read()
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise SystemExit("the server did not answer within 120 s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def start_seconds(bin: Path, demo: Path, repeat: int = 3) -> dict[str, float]:
    """Median seconds to the first answer: on a new project (the store is created and the
    five demo accounts' passwords hashed with argon2, 0.1 s each) and when it is served
    again."""
    first, again = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "demo"
            shutil.copytree(demo, copy, ignore=shutil.ignore_patterns("*.sqlite*"))
            first.append(_first_answer(bin, copy / "digits-demo.toml"))
            again.append(_first_answer(bin, copy / "digits-demo.toml"))
    return {
        "new_project_s": round(statistics.median(first), 2),
        "restart_s": round(statistics.median(again), 2),
    }


def measure(wheel: Path, extras: list[str], demo: Path, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"wheel": wheel.name}
    for extra in extras:
        bin = install(wheel, extra, folder / f"venv-{extra.replace(',', '-')}")
        figures = footprint(bin)
        entry: dict[str, Any] = {"installed_mb": figures["mb"], "packages": figures["packages"]}
        entry["import_interpret_review"] = import_seconds(bin, "interpret_review")
        if extra != "core":
            entry["import_app"] = import_seconds(bin, "interpret_review.app")
            entry["serve_start"] = start_seconds(bin, demo)
        entry["distributions"] = figures["names"]
        out[extra] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="app,core", help="comma-separated: app, core, ...")
    parser.add_argument("--baseline", help="a git revision to measure the same way")
    args = parser.parse_args()
    extras = [e.strip() for e in args.extras.split(",") if e.strip()]
    from interpret_review.demo import build_demo

    results: dict[str, Any] = {"python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = build_demo(folder / "demo", progress=False).parent
        results["this"] = measure(build_wheel(ROOT, folder / "dist"), extras, demo, folder / "a")
        if args.baseline:
            source = folder / "baseline"
            source.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.baseline], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
            wheel = build_wheel(source, folder / "dist-baseline")
            results["baseline"] = {"revision": args.baseline}
            results["baseline"].update(measure(wheel, extras, demo, folder / "b"))
            for extra in extras:
                now, then = results["this"][extra], results["baseline"][extra]
                results.setdefault("ratio", {})[extra] = {
                    "installed_mb": round(now["installed_mb"] / then["installed_mb"], 2),
                    "packages": round(now["packages"] / then["packages"], 2),
                    **(
                        {
                            "import_app": round(
                                now["import_app"]["wall_s"] / then["import_app"]["wall_s"], 2
                            ),
                            "serve_restart": round(
                                now["serve_start"]["restart_s"] / then["serve_start"]["restart_s"],
                                2,
                            ),
                        }
                        if extra != "core"
                        else {}
                    ),
                }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

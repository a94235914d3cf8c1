"""The review side works in a process where torch and Captum cannot be imported: the app
extra installs and serves without them (pyproject's [app] extra has neither)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# Imports of torch and Captum fail as if they were not installed (a finder that refuses them,
# rather than None in sys.modules, which libraries such as scipy probe). scikit-learn is not
# blocked: the quality room (in the app extra) uses it, as crowd-kit does.
BLOCK = """
import sys, importlib.abc
class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "captum"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
        return None
sys.meta_path.insert(0, _Absent())
"""


def run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_review_side_runs_without_torch(tiny_project: Path) -> None:
    result = run_blocked(
        f"""
        import uuid
        import interpret_review as ir
        from interpret_review.app import ReviewApp, serve, viewer_class
        from interpret_review.cli import parser
        from interpret_review.review import ReviewSession, RunSet, load_project, sync_project

        project = load_project({str(tiny_project)!r})
        with ir.JudgmentStore(project.database_url) as store, RunSet(project) as runs:
            sync_project(project, store, runs)
            session = ReviewSession(store, project, "neurons", "alice", runs)
            item = session.item(session.first_open())
            html = viewer_class("neuron")(run=runs["tiny"], address=item.address).html()
            assert "Unit 0 of layer conv1" in html
            session.submit(client_id=str(uuid.uuid4()), key=item.address, duration_ms=5,
                           answers={{"label": "x", "category": "edge", "confidence": 2}})
            n = ir.export_judgments(store, project, format="parquet",
                                    out={str(tiny_project.with_name("out.parquet"))!r}).rows
            report = ir.compute_report(store, project)  # the quality room needs no torch
            assert report.tasks["neurons"].answers == 1
            frame = ir.judgments_frame(store, project)  # notebooks' DataFrame: no torch
            assert list(frame["answer.label"]) == ["x"]
            page = ir.review_page(project, "alice", store=store)  # the notebook review page
            assert page.item is not None
            page.close()
        assert n == 1
        server = serve(project, settings=ir.Settings(port=0), start=False)
        server.stop()
        try:
            ir.generate
        except ImportError:
            print("generate needs torch")
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["generate", "needs", "torch", "ok"]

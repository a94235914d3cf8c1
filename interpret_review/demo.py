"""The digits demo: a run, a review project and demo accounts, built where missing.

``build_demo(directory)`` makes ``DIRECTORY/runs/digits.h5`` from the ``digits`` recipe
(training the small CNN on first use; an interrupted build resumes) and writes the project
file ``DIRECTORY/digits-demo.toml`` with two tasks and three accounts. What exists is kept,
so running it again costs a second. ``interpret-review demo`` then serves the project.
"""

from __future__ import annotations

from pathlib import Path

from interpret_review.errors import ConfigError, IncompleteRunError
from interpret_review.settings import Settings

__all__ = ["DEMO_ACCOUNTS", "build_demo"]

#: (user name, password, role) of the demo's accounts. Demo only: never reuse them.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("alice", "alice-demo", "reviewer"),
    ("bob", "bob-demo", "reviewer"),
    ("rita", "rita-demo", "researcher"),
)

PROJECT_FILE = "digits-demo.toml"

_PROJECT = '''# The interpret-review demo project (written by `interpret-review demo`; edit freely).
[project]
name = "digits-demo"
title = "What does the digits CNN compute?"

[[runs]]
name = "digits"
path = "runs/digits.h5"

[[tasks]]
name = "describe-neurons"
kind = "neuron"
run = "digits"
title = "Describe what each unit detects"
layers = ["conv1", "conv2"]
categories = ["stroke", "curve", "loop", "corner", "edge", "blob", "background", "other"]
instructions = """
Each card is one **unit** (a channel of a convolution layer) of a small network that reads
8x8 handwritten digits.

* **Top activating examples**: the nine test digits on which the unit is most active. The
  colour shows *where* in the digit it fires: red pixels raise its activation.
* **Across the activation range**: digits sampled from its weakest to its strongest response.
* **Histogram**: how active the unit is over all 450 test digits.

Answer with a short label of what the unit detects (for example *"a horizontal stroke at the
top"* or *"the closed loop of 0, 6, 8 and 9"*), pick a category, say how confident you are,
flag it if it responds to unrelated things (**polysemantic**), never responds (**dead**), or
you cannot tell (**unclear**), and tick the shown examples your label describes.
"""

[[tasks]]
name = "rate-attributions"
kind = "attribution"
run = "digits"
title = "Rate attribution maps"
examples = 40
instructions = """
Each item is one test digit with the maps of eight attribution methods. A map says which
pixels pushed the network towards the class it explains (red) or away from it (blue).

For every map, answer **yes** if it highlights the strokes that make this digit the predicted
class, **partly** if it does so with a lot of noise or misses an important stroke, and **no**
if it highlights background, the whole image evenly, or the wrong strokes. Add a comment when
something is odd (for example a wrong prediction).
"""
'''


def _accounts() -> str:
    return "".join(
        f'\n[[reviewers]]\nusername = "{name}"\npassword = "{password}"\nrole = "{role}"\n'
        for name, password, role in DEMO_ACCOUNTS
    )


def build_demo(
    directory: str | Path = "interpret-review-demo",
    *,
    settings: Settings | None = None,
    progress: bool = True,
) -> Path:
    """Build what is missing of the demo in ``directory``; return its project file.

    Needs torch and Captum (``interpret-review[generate]``) only when the run must be built.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    run_path = directory / "runs" / "digits.h5"
    if not _finished(run_path):
        try:
            from interpret_review.generate import run_recipe
        except ImportError as error:
            raise ConfigError(
                f"building the demo run needs torch and captum ({error}); install "
                "interpret-review[generate] or run `make demo`"
            ) from None
        run_recipe("digits", run_path, settings=settings, progress=progress)
    project = directory / PROJECT_FILE
    if not project.exists():
        partial = project.with_name(project.name + ".partial")
        partial.write_text(_PROJECT + _accounts(), encoding="utf-8")
        partial.replace(project)
    return project


def _finished(run_path: Path) -> bool:
    """Whether the demo run exists and opens; an interrupted one is resumed by the caller."""
    from interpret_review.store import open_run

    if not run_path.exists() and not run_path.with_name("digits.shards").exists():
        return False
    try:
        open_run(run_path).close()
    except IncompleteRunError:
        return False
    return True

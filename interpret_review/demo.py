"""The digits demo: a run, a review project and demo accounts, built where missing.

``build_demo(directory)`` makes ``DIRECTORY/runs/digits.h5`` from the ``digits`` recipe
(training the small CNN on first use; an interrupted build resumes) and writes the project
file ``DIRECTORY/digits-demo.toml``: a three-stage pipeline on the CNN's units (describe,
verify by simulation, adjudicate), a task rating attribution maps, and five accounts. What exists is kept,
so running it again costs a second. ``interpret-review demo`` then serves the project.

``build_demo(directory, dataset="topics")`` builds the text demo the same way, from the
``topics`` recipe and the project file shipped beside it (``datasets/topics/project.toml``).
"""

from __future__ import annotations

from pathlib import Path

from interpret_review.errors import ConfigError, IncompleteRunError
from interpret_review.settings import Settings

__all__ = ["DEMO_ACCOUNTS", "build_demo", "demo_names"]

#: (user name, password, role) of the demo's accounts. Demo only: never reuse them.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("alice", "alice-demo", "reviewer"),
    ("bob", "bob-demo", "reviewer"),
    ("carol", "carol-demo", "reviewer"),
    ("ada", "ada-demo", "adjudicator"),
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
overlap = 2                  # two reviewers describe each unit
reviewers = ["alice", "bob"] # the describing group
consensus = "adjudicated"    # the adjudicator's category where there is one
shuffle = false              # both go through the units in one order, so each unit moves
                             # on to verification as soon as both have described it
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

[[tasks.worked_examples]]
address = "neuron:digits/conv1/0"
answers = { label = "ink along a vertical stroke", category = "stroke", confidence = 3 }
why = """
An example of the **form** of an answer: name *what* in the digit makes the unit fire and
*where*, short enough for someone else to test (the verify stage will), and lower your
confidence when the top examples disagree.
"""

[[tasks]]
name = "verify-descriptions"
kind = "neuron"
stage = "verify"
source = "describe-neurons"
run = "digits"
title = "Test another reviewer's description"
overlap = 1                  # one other reviewer simulates each description
reviewers = ["carol", "ada"] # never those who described the unit
held_out = { high = 4, medium = 4, low = 4 }
instructions = """
You see **one description** of a unit, written by another reviewer, and twelve digits the
unit was *not* shown with. Using only the description, say for each digit how strongly the
unit fires: **none**, **weak**, **medium** or **strong** (keys `a s d f`; the highlighted
digit moves on by itself, `1`-`9` and the arrows move it).

How well your predictions follow the unit's real activations becomes the description's
score: a vague description cannot be predicted, a precise one can. Do not guess from the
digit's class; follow the words.
"""

[[tasks]]
name = "adjudicate-neurons"
kind = "neuron"
stage = "adjudicate"
source = "verify-descriptions"
run = "digits"
title = "Decide each unit's label"
categories = ["stroke", "curve", "loop", "corner", "edge", "blob", "background", "other"]
instructions = """
For each unit you see its card and **every description** of it with its simulation score
(how well other reviewers could predict the unit from it). Write the final label: take the
best description, merge them, or write a better one; and say why in the rationale.
"""

[[tasks]]
name = "rate-attributions"
kind = "attribution"
run = "digits"
title = "Rate attribution maps"
examples = 40
overlap = 2
instructions = """
Each item is one test digit with the maps of eight attribution methods. A map says which
pixels pushed the network towards the class it explains (red) or away from it (blue).

For every map, answer **yes** if it highlights the strokes that make this digit the predicted
class, **partly** if it does so with a lot of noise or misses an important stroke, and **no**
if it highlights background, the whole image evenly, or the wrong strokes. Add a comment when
something is odd (for example a wrong prediction).
"""

# How far answers and reviewers are trusted (the admin page's Quality tab, and
# `interpret-review quality`). Rules are tried in order; the first that holds sets the tier.
[quality]
min_items = 10               # figures on fewer items say "too few items" instead
fast_seconds = 2.0           # answers faster than this cannot have been read
model = "one-coin"           # reliability model: one-coin, dawid-skene or mace

[[quality.tiers]]
name = "paused"              # no new items; answers leave the consensus
when = "random_odds >= 99 or (gold_items >= 10 and gold_accuracy < 0.4)"
pause = true

[[quality.tiers]]
name = "trusted"
when = "items >= 30 and flags == 0 and peer_agreement >= 0.6"
role = "adjudicator"         # promoted: may adjudicate
'''


def _accounts() -> str:
    return "".join(
        f'\n[[reviewers]]\nusername = "{name}"\npassword = "{password}"\nrole = "{role}"\n'
        for name, password, role in DEMO_ACCOUNTS
    )


def demo_names() -> list[str]:
    """The demos: ``digits`` and every recipe of ``datasets/`` that ships a project.toml."""
    from interpret_review.generate.recipes import DATASETS_DIR

    return ["digits"] + sorted(
        p.parent.name for p in DATASETS_DIR.glob("*/project.toml") if p.parent.name != "digits"
    )


def build_demo(
    directory: str | Path = "interpret-review-demo",
    *,
    dataset: str = "digits",
    settings: Settings | None = None,
    progress: bool = True,
) -> Path:
    """Build what is missing of demo ``dataset`` in ``directory``; return its project file.

    ``digits`` (the default) is the image demo; ``topics`` the text demo (needs the
    ``text`` extra). Needs torch and Captum (``interpret-review[generate]``) only when the
    run must be built.
    """
    from interpret_review.errors import UnknownNameError

    if dataset not in demo_names():
        raise UnknownNameError("demo", dataset, demo_names())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    run_path = directory / "runs" / f"{dataset}.h5"
    if not _finished(run_path):
        try:
            from interpret_review.generate import run_recipe
        except ImportError as error:
            raise ConfigError(
                f"building the demo run needs torch and captum ({error}); install "
                "interpret-review[generate] or run `make demo`"
            ) from None
        run_recipe(dataset, run_path, settings=settings, progress=progress)
    project = directory / (PROJECT_FILE if dataset == "digits" else f"{dataset}-demo.toml")
    if not project.exists():
        if dataset == "digits":
            text = _PROJECT
        else:
            from interpret_review.generate.recipes import DATASETS_DIR

            text = (DATASETS_DIR / dataset / "project.toml").read_text(encoding="utf-8")
        partial = project.with_name(project.name + ".partial")
        partial.write_text(text + _accounts(), encoding="utf-8")
        partial.replace(project)
    return project


def _finished(run_path: Path) -> bool:
    """Whether the demo run exists and opens; an interrupted one is resumed by the caller."""
    from interpret_review.store import open_run

    if not run_path.exists() and not run_path.with_name(run_path.stem + ".shards").exists():
        return False
    try:
        open_run(run_path).close()
    except IncompleteRunError:
        return False
    return True

"""interpret-review: collect checked human judgments on interpretability outputs.

Captum attributions and neuron evidence for a PyTorch model are stored in an HDF5 run
(:func:`generate`, :func:`open_run`); a Panel app (:func:`serve`) shows them to reviewers,
whose judgments go to SQL (:class:`JudgmentStore`), are measured (:func:`compute_report`:
agreement, reliability, flags, consensus, trust tiers) and leave as label files
(:func:`export_judgments`, :func:`judgments_frame`) and probe bundles
(:func:`export_probe_bundle`, :func:`train_probes`). In Jupyter, :func:`show` renders any
item and :func:`review_page` is the review page in a cell.

Names are imported on first use, so ``import interpret_review`` stays fast and works
without torch (needed only by :func:`generate`) or Panel (needed only by :func:`serve`).

>>> import interpret_review as ir
>>> ir.item_address("neuron", "digits", 5, layer="conv2")
'neuron:digits/conv2/5'
"""

import importlib as _importlib
import typing as _typing

from interpret_review._version import __version__
from interpret_review.addresses import item_address, parse_address
from interpret_review.errors import (
    ConfigError,
    DataError,
    InterpretReviewError,
    JudgmentError,
    MissingDependencyError,
    ModelError,
    ProjectError,
    RunFileError,
)
from interpret_review.errors import missing_dependency as _missing_dependency
from interpret_review.settings import Settings

if _typing.TYPE_CHECKING:
    from interpret_review.app import review_page, serve, show
    from interpret_review.demo import build_demo
    from interpret_review.export import (
        export_judgments,
        export_probe_bundle,
        judgments_frame,
        load_bundle,
        train_probes,
    )
    from interpret_review.generation import generate, load_recipe, run_recipe
    from interpret_review.generation.text import TextData, load_text_model
    from interpret_review.judgments import JudgmentStore
    from interpret_review.quality import apply_tiers, compute_report
    from interpret_review.review import ReviewSession, load_project, sync_project
    from interpret_review.store import Run, open_run

__all__ = [
    "ConfigError",
    "DataError",
    "InterpretReviewError",
    "JudgmentError",
    "JudgmentStore",
    "MissingDependencyError",
    "ModelError",
    "ProjectError",
    "ReviewSession",
    "Run",
    "RunFileError",
    "Settings",
    "TextData",
    "__version__",
    "apply_tiers",
    "build_demo",
    "compute_report",
    "export_judgments",
    "export_probe_bundle",
    "generate",
    "item_address",
    "judgments_frame",
    "load_bundle",
    "load_project",
    "load_recipe",
    "load_text_model",
    "open_run",
    "parse_address",
    "review_page",
    "run_recipe",
    "serve",
    "show",
    "sync_project",
    "train_probes",
]

#: Names imported on first use, and the module each comes from.
_LAZY = {
    "JudgmentStore": "interpret_review.judgments",
    "ReviewSession": "interpret_review.review",
    "Run": "interpret_review.store",
    "apply_tiers": "interpret_review.quality",
    "build_demo": "interpret_review.demo",
    "compute_report": "interpret_review.quality",
    "export_judgments": "interpret_review.export",
    "export_probe_bundle": "interpret_review.export",
    "judgments_frame": "interpret_review.export",
    "load_bundle": "interpret_review.export",
    "review_page": "interpret_review.app",
    "show": "interpret_review.app",
    "train_probes": "interpret_review.export",
    "generate": "interpret_review.generation",
    "load_project": "interpret_review.review",
    "load_recipe": "interpret_review.generation",
    "load_text_model": "interpret_review.generation.text",
    "TextData": "interpret_review.generation.text",
    "open_run": "interpret_review.store",
    "run_recipe": "interpret_review.generation",
    "serve": "interpret_review.app",
    "sync_project": "interpret_review.review",
}


#: The extra each room needs, named when one of its optional dependencies is missing.
_EXTRA = {
    "interpret_review.app": "app",
    "interpret_review.generation": "generate",
    "interpret_review.generation.text": "generate",
    "interpret_review.quality": "quality",
    "interpret_review.export": "export",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'interpret_review' has no attribute {name!r}")
    try:
        module = _importlib.import_module(_LAZY[name])
    except ModuleNotFoundError as error:
        missing = _missing_dependency(error, f"interpret_review.{name}", _EXTRA.get(_LAZY[name]))
        if missing is error:
            raise
        raise missing from None
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""The ``interpret-review`` command: thin commands over the Python API, one to one.

    interpret-review generate RECIPE --out RUN.h5     run_recipe(...)
    interpret-review info RUN                         open_run(RUN).describe()
    interpret-review demo                             build_demo() + serve(...)
    interpret-review serve PROJECT                    serve(PROJECT)
    interpret-review export PROJECT --format F --out  export_judgments(...)

Errors raised on purpose (``InterpretReviewError``) become one line on stderr and exit
status 1; nothing else is caught.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interpret_review.errors import InterpretReviewError
from interpret_review.settings import Settings

__all__ = ["main", "parser"]

_GENERATION_SETTINGS = ("batch_size", "shard_size", "top_k", "n_quantiles", "histogram_bins",
                        "ig_steps", "seed")  # fmt: skip


def _words(text: str | None) -> list[str] | None:
    return None if text is None else [w for w in text.replace(",", " ").split() if w]


def _serve_settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        address=args.address,
        port=args.port,
        num_procs=getattr(args, "num_procs", None),
        database_url=getattr(args, "database_url", None),
    )


def _ready(url: str) -> None:
    print(f"Review app: {url}", flush=True)


# -- commands -------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from interpret_review.generate import load_recipe, run_recipe

    recipe = load_recipe(args.recipe)
    # flags beat the recipe, which beats the environment and the defaults
    flags = {k: getattr(args, k) for k in _GENERATION_SETTINGS if getattr(args, k) is not None}
    recipe = dataclasses.replace(recipe, settings={**recipe.settings, **flags})
    options: dict[str, Any] = {}
    for key in ("methods", "layers"):
        if getattr(args, key) is not None:
            options[key] = _words(getattr(args, key))
    for key in ("target", "limit", "device"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if isinstance(options.get("target"), str) and options["target"].isdigit():
        options["target"] = int(options["target"])
    if options:
        recipe = dataclasses.replace(recipe, generate={**recipe.generate, **options})
    path = run_recipe(recipe, args.out, settings=Settings.from_env(), progress=not args.quiet)
    print(f"Run written: {path}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from interpret_review.store import open_run

    with open_run(args.run) as run:
        print(json.dumps(run.info(), indent=2) if args.json else run.describe())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from interpret_review.demo import DEMO_ACCOUNTS, build_demo

    project = build_demo(args.dir, settings=Settings.from_env(), progress=not args.quiet)
    print(f"Demo project: {project}")
    print("Demo accounts (user / password / role):")
    for name, password, role in DEMO_ACCOUNTS:
        print(f"  {name:<6} {password:<12} {role}")
    if args.no_serve:
        return 0
    from interpret_review.app import serve

    serve(project, settings=_serve_settings(args), show=args.open, on_ready=_ready)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from interpret_review.app import serve

    serve(args.project, settings=_serve_settings(args), show=args.open, on_ready=_ready)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from interpret_review.export import export_judgments
    from interpret_review.judgments import JudgmentStore
    from interpret_review.review import load_project

    project = load_project(args.project)
    settings = Settings.from_env(database_url=args.database_url)
    with JudgmentStore(settings.database_url or project.database_url) as store:
        count = export_judgments(
            store,
            project.name,
            format=args.format,
            out=args.out,
            task=args.task,
            include_superseded=args.include_superseded,
        )
    print(f"{count} judgments written to {args.out}")
    return 0


# -- the parser -----------------------------------------------------------------------------


def _command(
    commands: Any, name: str, func: Any, summary: str, example: str
) -> argparse.ArgumentParser:
    sub = commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(func=func)
    return sub


def _server_options(sub: argparse.ArgumentParser, procs: bool = True) -> None:
    sub.add_argument("--address", help="interface to listen on (default 127.0.0.1)")
    sub.add_argument("--port", type=int, help="port (default 5006; 0 picks a free one)")
    if procs:
        sub.add_argument("--num-procs", type=int, help="server processes (default 1)")
        sub.add_argument("--database-url", help="judgment store URL (default: SQLite beside it)")
    sub.add_argument("--open", action="store_true", help="open the app in a web browser")


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``interpret-review``."""
    from interpret_review import __version__

    top = argparse.ArgumentParser(
        prog="interpret-review",
        description="Collect checked human judgments on interpretability outputs.",
        epilog="Start with:  interpret-review demo",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(title="commands", metavar="COMMAND", required=True)

    sub = _command(
        commands,
        "generate",
        cmd_generate,
        "Run Captum over a recipe's model and data and write an HDF5 run (resumes if interrupted).",
        "interpret-review generate digits --out runs/digits.h5 --methods Saliency,Occlusion",
    )
    sub.add_argument("recipe", help="a recipe file (.toml) or a recipe name in datasets/")
    sub.add_argument("--out", required=True, type=Path, help="the run's index file, DIR/NAME.h5")
    sub.add_argument("--methods", help="attribution methods, comma-separated (default: recipe's)")
    sub.add_argument("--layers", help="layers to analyse, comma-separated (default: recipe's)")
    sub.add_argument("--target", help="'predicted', 'true' or a class index")
    sub.add_argument("--limit", type=int, help="use only the first N examples")
    sub.add_argument("--device", help="torch device, e.g. cpu or cuda")
    for name in _GENERATION_SETTINGS:
        sub.add_argument("--" + name.replace("_", "-"), type=int, dest=name, help="setting " + name)
    sub.add_argument("--quiet", action="store_true", help="no progress bars")

    sub = _command(
        commands,
        "info",
        cmd_info,
        "Print what a run holds: provenance, methods, layers, shards.",
        "interpret-review info runs/digits.h5 --json",
    )
    sub.add_argument("run", type=Path, help="the run's index file, DIR/NAME.h5")
    sub.add_argument("--json", action="store_true", help="print JSON")

    sub = _command(
        commands,
        "demo",
        cmd_demo,
        "Build the digits demo (run, project, accounts) where missing and serve it.",
        "interpret-review demo --dir interpret-review-demo --port 5006",
    )
    sub.add_argument("--dir", type=Path, default=Path("interpret-review-demo"), help="where")
    sub.add_argument("--no-serve", action="store_true", help="build only")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    _server_options(sub, procs=False)

    sub = _command(
        commands,
        "serve",
        cmd_serve,
        "Serve a project's review app (syncs tasks, items and accounts first).",
        "interpret-review serve interpret-review-demo/digits-demo.toml --port 5006",
    )
    sub.add_argument("project", type=Path, help="the project file (TOML)")
    _server_options(sub)

    sub = _command(
        commands,
        "export",
        cmd_export,
        "Write a project's judgments to a label file, one row per judgment.",
        "interpret-review export interpret-review-demo/digits-demo.toml --format csv "
        "--out labels.csv",
    )
    sub.add_argument("project", type=Path, help="the project file (TOML)")
    sub.add_argument("--format", required=True, choices=["jsonl", "csv"], help="file format")
    sub.add_argument("--out", required=True, type=Path, help="the file to write")
    sub.add_argument("--task", help="only this task")
    sub.add_argument(
        "--include-superseded", action="store_true", help="also rows replaced by an edit"
    )
    sub.add_argument("--database-url", help="judgment store URL (default: the project's)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InterpretReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

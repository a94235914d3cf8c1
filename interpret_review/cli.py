"""The ``interpret-review`` command: thin commands over the Python API, one to one.

    interpret-review generate RECIPE --out RUN.h5     run_recipe(...)
    interpret-review info RUN                         open_run(RUN).describe()
    interpret-review demo                             build_demo() + serve(...)
    interpret-review serve PROJECT                    serve(PROJECT)
    interpret-review export PROJECT --format F --out  export_judgments(...) [+ card]
    interpret-review export PROJECT --probe-bundle    export_probe_bundle(...)
    interpret-review probe BUNDLE                     train_probes(load_bundle(BUNDLE))
    interpret-review quality PROJECT [--apply]        compute_report(...) [+ apply_tiers]

Errors raised on purpose (``InterpretReviewError``) become one line on stderr and exit
status 1, and so does an optional dependency that is not installed (the line names the extra
that installs it); nothing else is caught. Warnings of interpret-review's own (a mistyped
``INTERPRET_REVIEW_*`` variable) are one line on stderr too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interpret_review.errors import (
    ConfigError,
    ConfigWarning,
    InterpretReviewError,
    MissingDependencyError,
    missing_dependency,
)
from interpret_review.settings import Settings, check_environment, command_settings

__all__ = ["main", "parser"]


def _words(text: str | None) -> list[str] | None:
    return None if text is None else [w for w in text.replace(",", " ").split() if w]


def _settings(args: argparse.Namespace) -> Settings:
    """Defaults, then the environment, then the command's setting flags that were given."""
    return Settings.from_env(
        **{s.name: getattr(args, s.name) for s in command_settings(args.command)}
    )


def _ready(url: str) -> None:
    print(f"Review app: {url}", flush=True)


# -- commands -------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from interpret_review.generation import load_recipe, run_recipe

    recipe = load_recipe(args.recipe)
    # flags beat the recipe, which beats the environment and the defaults
    given = ((s.name, getattr(args, s.name)) for s in command_settings("generate"))
    flags = {name: value for name, value in given if value is not None}
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
    from interpret_review.demo import DEMO_ACCOUNTS, build_demo, missing_extras

    # all that is missing at once, not one extra after the other
    extras, module = missing_extras(args.dir, dataset=args.dataset, serve=not args.no_serve)
    if module:
        raise MissingDependencyError("interpret-review demo", module, ",".join(extras))

    project = build_demo(
        args.dir, dataset=args.dataset, settings=Settings.from_env(), progress=not args.quiet
    )
    print(f"Demo project: {project}")
    print("Demo accounts (user / password / role):")
    for name, password, role in DEMO_ACCOUNTS:
        print(f"  {name:<6} {password:<12} {role}")
    if args.no_serve:
        return 0
    from interpret_review.app import serve

    serve(project, settings=_settings(args), show=args.open, on_ready=_ready)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from interpret_review.app import serve

    serve(args.project, settings=_settings(args), show=args.open, on_ready=_ready)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from interpret_review.judgments import JudgmentStore
    from interpret_review.review import load_project

    project = load_project(args.project)
    settings = _settings(args)
    with JudgmentStore(settings.database_url or project.database_url) as store:
        if args.probe_bundle:
            from interpret_review.export import export_probe_bundle

            bundle = export_probe_bundle(
                store,
                project,
                args.out,
                run=args.run,
                layers=_words(args.layers),
                format=args.format or "hdf5",
                split_seed=args.split_seed,
                card=not args.no_card,
                progress=not args.quiet,
            )
            print(
                f"probe bundle: {bundle.concepts} concepts on {bundle.examples} examples in "
                f"{bundle.data}\nmanifest: {bundle.manifest}"
            )
            if bundle.card is not None:
                print(f"dataset card: {bundle.card}")
            print(f"train probes with:  interpret-review probe {bundle.folder}")
            return 0
        from interpret_review.export import export_judgments

        if args.format == "hdf5":
            raise ConfigError(
                "hdf5 is a probe bundle's format; add --probe-bundle, or choose "
                "jsonl, csv or parquet for a label file"
            )
        result = export_judgments(
            store,
            project,
            format=args.format or _format_of(args.out),
            out=args.out,
            shape=args.shape,
            task=args.task,
            include_superseded=args.include_superseded,
            names=args.names,
            card=not args.no_card,
            progress=not args.quiet,
        )
    stale = f" ({result.stale} marked stale)" if result.stale else ""
    print(f"{result.rows} {result.shape} written to {result.path}{stale}")
    if result.card is not None:
        print(f"dataset card: {result.card}")
    return 0


def _format_of(out: Path) -> str:
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("jsonl", "csv", "parquet"):
        raise ConfigError(
            f"cannot tell the format of {out} from its suffix; name it .jsonl, .csv or "
            ".parquet, or give --format"
        )
    return fmt


def _concepts(text: str | None) -> list[str | int] | None:
    """Concept keys or indices, comma-separated (keys may hold spaces)."""
    if text is None:
        return None
    words = [w.strip() for w in text.split(",") if w.strip()]
    return [int(w) if w.isdigit() else w for w in words]


def cmd_probe(args: argparse.Namespace) -> int:
    from interpret_review.export import load_bundle, train_probes

    report = train_probes(
        load_bundle(args.bundle),
        layers=_words(args.layers),
        concepts=_concepts(args.concepts),
        shuffles=args.shuffles,
        progress=not args.quiet,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from interpret_review.judgments import JudgmentStore
    from interpret_review.quality import apply_tiers, compute_report
    from interpret_review.review import load_project
    from interpret_review.review.provenance import record_runs, stale_labels

    project = load_project(args.project)
    settings = _settings(args)
    with JudgmentStore(settings.database_url or project.database_url) as store:
        report = compute_report(store, project, progress=not args.quiet)
        applied = apply_tiers(store, project.name, report.decisions) if args.apply else []
        stale = stale_labels(store, project.name, record_runs(project, store))
    if args.json:
        data = report.to_dict()
        data["applied"] = [c.reviewer for c in applied]
        data["stale"] = {
            "counts": stale.counts,
            "reasons": stale.reasons,
            "items": {task: list(found) for task, found in stale.addresses.items()},
        }
        print(json.dumps(data, indent=2, default=str))
    else:
        print(report.describe(applied) + "\n" + stale.describe())
    return 0


# -- the parser -----------------------------------------------------------------------------


#: The extras each command needs beyond the core, named in its missing-dependency errors.
EXTRAS = {
    "generate": "generate",
    "info": None,
    "demo": "generate,app",
    "serve": "app",
    "export": "export",
    "quality": "quality",
    "probe": "export",
}


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
    sub.set_defaults(func=func, command=name)
    return sub


def _setting_flags(sub: argparse.ArgumentParser, command: str) -> None:
    """A flag for each setting the command takes (see :data:`interpret_review.settings.SETTINGS`)."""
    for setting in command_settings(command):
        default = setting.default if setting.default != "" else "empty"
        sub.add_argument(
            setting.flag,
            type=setting.type,
            dest=setting.name,
            metavar=setting.name.upper(),
            help=f"{setting.help} (default {default}; or INTERPRET_REVIEW_{setting.name.upper()})",
        )


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``interpret-review``."""
    from interpret_review._version import __version__

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
    sub.add_argument(
        "recipe", help="a recipe file (.toml) or a shipped recipe: digits, planted-text, topics"
    )
    sub.add_argument("--out", required=True, type=Path, help="the run's index file, DIR/NAME.h5")
    sub.add_argument("--methods", help="attribution methods, comma-separated (default: recipe's)")
    sub.add_argument("--layers", help="layers to analyse, comma-separated (default: recipe's)")
    sub.add_argument("--target", help="'predicted', 'true' or a class index")
    sub.add_argument("--limit", type=int, help="use only the first N examples")
    sub.add_argument("--device", help="torch device, e.g. cpu or cuda")
    _setting_flags(sub, "generate")
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
        "Build a demo (run, project, accounts) where missing and serve it: the digits CNN, "
        "or --dataset topics for the text demo (MiniLM; needs interpret-review[text]).",
        "interpret-review demo --dir interpret-review-demo --port 5006",
    )
    sub.add_argument(
        "--dataset", default="digits", help="which demo: digits (default) or topics (text)"
    )
    sub.add_argument("--dir", type=Path, default=Path("interpret-review-demo"), help="where")
    sub.add_argument("--no-serve", action="store_true", help="build only")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    _setting_flags(sub, "demo")
    sub.add_argument("--open", action="store_true", help="open the app in a web browser")

    sub = _command(
        commands,
        "serve",
        cmd_serve,
        "Serve a project's review app (syncs tasks, items and accounts first).",
        "interpret-review serve interpret-review-demo/digits-demo.toml --port 5006",
    )
    sub.add_argument("project", type=Path, help="the project file (TOML)")
    _setting_flags(sub, "serve")
    sub.add_argument("--open", action="store_true", help="open the app in a web browser")

    sub = _command(
        commands,
        "export",
        cmd_export,
        "Write a project's labels to a file (one row per judgment, or per item with its "
        "consensus) and a dataset card beside it.",
        "interpret-review export interpret-review-demo/digits-demo.toml --format parquet "
        "--shape items --out labels.parquet",
    )
    sub.add_argument("project", type=Path, help="the project file (TOML)")
    sub.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet", "hdf5"],
        help="file format (default: from --out's suffix; a probe bundle: hdf5)",
    )
    sub.add_argument("--out", required=True, type=Path, help="the file (a bundle: folder) to write")
    sub.add_argument(
        "--shape",
        choices=["judgments", "items"],
        default="judgments",
        help="one row per judgment (default) or per item with its consensus label",
    )
    sub.add_argument("--names", action="store_true", help="reviewers' names, not pseudonyms")
    sub.add_argument("--no-card", action="store_true", help="do not write the dataset card")
    sub.add_argument(
        "--probe-bundle",
        action="store_true",
        help="write a probe bundle (labels per concept, activations, splits) into folder --out",
    )
    sub.add_argument("--run", help="probe bundle: the run (default: the project's)")
    sub.add_argument("--layers", help="probe bundle: layers, comma-separated (default: all)")
    sub.add_argument("--split-seed", type=int, default=0, help="probe bundle: split seed")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("--task", help="only this task")
    sub.add_argument(
        "--include-superseded", action="store_true", help="also rows replaced by an edit"
    )
    _setting_flags(sub, "export")

    sub = _command(
        commands,
        "quality",
        cmd_quality,
        "Agreement, reliability, flags, consensus and trust tiers of a project's judgments.",
        "interpret-review quality interpret-review-demo/digits-demo.toml --apply",
    )
    sub.add_argument("project", type=Path, help="the project file (TOML)")
    sub.add_argument("--apply", action="store_true", help="record the tier rules' changes")
    sub.add_argument("--json", action="store_true", help="print the whole report as JSON")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    _setting_flags(sub, "quality")

    sub = _command(
        commands,
        "probe",
        cmd_probe,
        "Train a linear probe per concept of a probe bundle; score it against a majority-class "
        "baseline and a probe on shuffled labels.",
        "interpret-review probe bundle/ --layers conv1,conv2 --json",
    )
    sub.add_argument("bundle", type=Path, help="a probe bundle's folder (or its manifest or file)")
    sub.add_argument("--layers", help="layers, comma-separated (default: all in the bundle)")
    sub.add_argument("--concepts", help="concept keys or indices, comma-separated (default: all)")
    sub.add_argument("--shuffles", type=int, default=5, help="shuffled-label probes to average")
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    return top


def _one_line_warnings(python_shows: Any) -> Any:
    """A ``warnings.showwarning`` that prints our own warnings as one line (``warning:
    ...``) and hands the others to ``python_shows``."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, ConfigWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            python_shows(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the caller's showwarning and filters
        warnings.showwarning = _one_line_warnings(warnings.showwarning)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        check_environment()  # every command warns of a mistyped INTERPRET_REVIEW_* variable
        return int(args.func(args))
    except InterpretReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        missing = missing_dependency(
            error, f"interpret-review {args.command}", EXTRAS[args.command]
        )
        if missing is error:
            raise  # part of an installed package, or our own: a broken install or a bug
        print(f"error: {missing}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

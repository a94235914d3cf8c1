"""One declarative table of settings.

Every tunable number or path lives in :data:`SETTINGS` with its default and its help
text; ``docs/settings.md`` documents each one (a test checks it). Settings are passed
explicitly as a :class:`Settings` object, never read from a global: build one with
:meth:`Settings.from_env` (environment variables ``INTERPRET_REVIEW_<NAME>``) and override
fields with :meth:`Settings.replace`.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interpret_review.errors import ConfigError, ConfigWarning, UnknownNameError

__all__ = [
    "ENV_PREFIX",
    "GROUPS",
    "RUN_KINDS",
    "SETTINGS",
    "Setting",
    "Settings",
    "check_environment",
    "command_settings",
    "generation_settings",
    "settings_markdown",
]


#: What a setting is about; each group is one heading of ``docs/settings.md``.
GROUPS: dict[str, str] = {
    "generation": "Generation (recorded in each run's config; flags of `generate`, keys of a "
    "recipe's `[generate]` table)",
    "app": "Review app",
    "judgments": "Judgment store",
    "files": "Files",
}
#: The run kinds whose config records a generation setting.
RUN_KINDS: tuple[str, ...] = ("image", "text")


@dataclass(frozen=True)
class Setting:
    """One setting, declared once: its name (also ``INTERPRET_REVIEW_<NAME>``), default,
    help text and type; ``group`` (a key of :data:`GROUPS`); ``low`` the least whole number
    it takes; ``kinds`` the run kinds whose config records it (generation settings);
    ``commands`` the ``interpret-review`` commands that take it as a flag ``--<name>``. The
    command-line flags, the recipe keys, what a run records and ``docs/settings.md`` are all
    derived from :data:`SETTINGS`."""

    name: str
    default: Any
    help: str
    type: type = str
    group: str = "app"
    low: int | None = None
    kinds: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _generation(
    name: str, default: int, help: str, *, low: int = 1, kinds: tuple[str, ...] = RUN_KINDS
) -> Setting:
    return Setting(name, default, help, int, "generation", low, kinds, ("generate",))


SETTINGS: tuple[Setting, ...] = (
    _generation("batch_size", 64, "Examples per forward/backward batch during generation."),
    _generation("shard_size", 1024, "Examples per run shard; a shard is the unit of resume."),
    _generation("top_k", 9, "Top-activating examples kept per neuron."),
    _generation("n_quantiles", 8, "Examples sampled across activation quantiles per neuron."),
    _generation("histogram_bins", 40, "Bins of each neuron's activation histogram."),
    _generation("ig_steps", 32, "Integration steps of IntegratedGradients-style methods."),
    _generation("seed", 0, "Seed of every random choice made during generation.", low=0),
    _generation(
        "context_tokens", 9, "Tokens in each context window of a text neuron.", kinds=("text",)
    ),
    _generation(
        "feature_viz",
        1,
        "Inputs optimised to excite each analysed unit of an image run (0 turns it off).",
        low=0,
        kinds=("image",),
    ),
    _generation(
        "spatial_maps",
        1,
        "Keep where each unit fires in each example (conv maps: 2*N*U*h*w bytes a layer; "
        "per-token activations) for the linked views (0: only the per-example summary).",
        low=0,
    ),
    _generation(
        "sanity_examples",
        16,
        "Examples each attribution method's sanity checks use (0 turns them off).",
        low=0,
    ),
    Setting(
        "cache_dir",
        "~/.cache/interpret-review",
        "Where demo models are cached after their first training.",
        str,
        "files",
    ),
    # review app
    Setting(
        "address",
        "127.0.0.1",
        "Interface the review app listens on.",
        str,
        commands=("demo", "serve"),
    ),
    Setting(
        "port",
        5006,
        "Port the review app listens on (0 picks a free one).",
        int,
        low=0,
        commands=("demo", "serve"),
    ),
    Setting(
        "allowed_hosts",
        "",
        "Extra HOST:PORT names browsers use to reach the app (comma-separated), e.g. the public "
        "name of a reverse proxy; the listening address, localhost and 127.0.0.1 always work.",
        str,
    ),
    Setting(
        "num_procs",
        1,
        "Server processes of the review app (SQL is the only shared state).",
        int,
        low=1,
        commands=("serve",),
    ),
    Setting(
        "cookie_secret",
        "",
        "Secret that signs login cookies and sessions; empty makes one per project file.",
        str,
    ),
    Setting("session_days", 7, "Days a login stays valid.", int, low=1),
    Setting(
        "oauth_provider",
        "",
        "Log in through an OAuth provider of Panel's (generic, github, google, azure, okta, "
        "auth0, gitlab...) instead of passwords; empty: the app's own login page. Accounts "
        "still come from the judgment store: the provider's user name must be an account's.",
        str,
    ),
    Setting("oauth_key", "", "The OAuth client id.", str),
    Setting("oauth_secret", "", "The OAuth client secret.", str),
    Setting(
        "oauth_redirect_uri",
        "",
        "The address the provider sends users back to: this app's /login, as the provider "
        "knows it (e.g. https://review.example.org/login).",
        str,
    ),
    Setting(
        "oauth_extra_params",
        "",
        'Provider options as a JSON object, e.g. {"AUTHORIZE_URL": ..., "TOKEN_URL": ..., '
        '"USER_URL": ..., "USER_KEY": "email"} for the generic provider.',
        str,
    ),
    Setting(
        "tier_minutes",
        10,
        "How often the review app applies the project's trust-tier rules (minutes; 0 never: "
        "apply them on the admin page or with `interpret-review quality --apply`).",
        int,
        low=0,
    ),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the judgment store; empty means SQLite beside the project file.",
        str,
        "judgments",
        commands=("serve", "export", "quality"),
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}

ENV_PREFIX = "INTERPRET_REVIEW_"


def check_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Warn (:class:`ConfigWarning`, once each) of every ``INTERPRET_REVIEW_*`` variable
    that names no setting (``INTERPRET_REVIEW_PROT``, ``INTERPRET_REVIEW_port``), with the
    closest setting's variable; returns those variables. Values are not read here."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in _BY_NAME}
    unknown = sorted(k for k in environ if k.upper().startswith(ENV_PREFIX) and k not in known)
    for key in unknown:
        close = difflib.get_close_matches(key[len(ENV_PREFIX) :].lower(), _BY_NAME, n=1)
        hint = (
            f"did you mean {ENV_PREFIX}{close[0].upper()}?"
            if close
            else f"the settings are {', '.join(sorted(_BY_NAME))} (as {ENV_PREFIX}NAME)"
        )
        # attributed to this line, so Python's default filter shows each variable once
        warnings.warn(
            f"environment variable {key} is not a setting and is ignored; {hint}",
            ConfigWarning,
            stacklevel=1,
        )
    return unknown


class Settings:
    """An immutable set of values for :data:`SETTINGS`."""

    __slots__ = ("_values",)

    def __init__(self, **overrides: Any) -> None:
        values = {s.name: s.default for s in SETTINGS}
        for name, value in overrides.items():
            values[name] = _coerce(name, value)
        object.__setattr__(self, "_values", values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``INTERPRET_REVIEW_<NAME>`` variables, then ``overrides``. A
        variable with the prefix that names no setting is ignored with a
        :class:`ConfigWarning` suggesting the closest one."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            key = ENV_PREFIX + setting.name.upper()
            if key in environ:
                values[setting.name] = environ[key]
        check_environment(environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **overrides: Any) -> Settings:
        return Settings(**{**self._values, **{k: v for k, v in overrides.items() if v is not None}})

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise UnknownNameError("setting", name, _BY_NAME) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are immutable: use .replace(name=value)")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def cache_path(self) -> Path:
        return Path(os.path.expanduser(self.cache_dir))

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != _BY_NAME[k].default}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _coerce(name: str, value: Any) -> Any:
    if name not in _BY_NAME:
        raise UnknownNameError("setting", name, _BY_NAME)
    kind = _BY_NAME[name].type
    if kind is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"setting {name} must be a whole number, got {value!r}") from None
        low = _BY_NAME[name].low
        if low is not None and number < low:
            at_least = "positive" if low == 1 else f"at least {low}"
            raise ConfigError(f"setting {name} must be {at_least}, got {number}")
        return number
    return str(value)


def generation_settings(kind: str | None = None) -> tuple[str, ...]:
    """The generation settings a run of ``kind`` (``image`` or ``text``) records in its
    config, or (``kind`` None) every one a recipe's ``[generate]`` table may set."""
    return tuple(
        s.name
        for s in SETTINGS
        if s.group == "generation" and s.kinds and (kind is None or kind in s.kinds)
    )


def command_settings(command: str) -> tuple[Setting, ...]:
    """The settings ``interpret-review COMMAND`` takes as flags."""
    return tuple(s for s in SETTINGS if command in s.commands)


def settings_markdown() -> str:
    """The tables of ``docs/settings.md``, one per group (a test keeps the file equal)."""
    out = []
    for group, title in GROUPS.items():
        out += [f"### {title}", "", "| name | default | flag | what it does |", "|---|---|---|---|"]
        for s in SETTINGS:
            if s.group != group:
                continue
            default = f"`{s.default}`" if s.default not in ("",) else "(empty)"
            commands = ", ".join(s.commands)
            flag = f"`{s.flag}` ({commands})" if commands else ""
            out.append(f"| `{s.name}` | {default} | {flag} | {s.help} |")
        out.append("")
    return "\n".join(out)

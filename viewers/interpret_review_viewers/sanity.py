"""The sanity badge shown beside an attribution map: pass / warn / fail against the task's
thresholds, the figures in its tooltip, and the randomization cascade as a small line.

A map whose method fails is marked more strongly when the task's action is ``flag``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from interpret_review.tasks.sanity import SanityRules, Verdict, judge

__all__ = ["STYLE", "rules_from", "sanity_badge"]

STYLE = """
<style>
.ir-viewer .sanity { display: inline-flex; align-items: center; gap: 4px; font-size: 11px;
  border-radius: 9px; padding: 0 7px; margin: 3px 0 0; border: 1px solid; cursor: help; }
.ir-viewer .sanity.pass { color: #1e6b34; background: #e8f5ec; border-color: #9fd1ad; }
.ir-viewer .sanity.warn { color: #7a5200; background: #fff4d6; border-color: #f0cf7a; }
.ir-viewer .sanity.fail { color: #8c1d18; background: #fdecea; border-color: #f0a9a3; }
.ir-viewer .sanity.unknown { color: #4c5d70; background: #eef1f4; border-color: #c8d0da; }
.ir-viewer .sanity svg { display: block; }
.ir-viewer .flagged { outline: 3px solid #b3261e; outline-offset: 2px; border-radius: 3px; }
.ir-viewer .flag-note { color: #8c1d18; font-size: 11px; max-width: 140px; }
</style>
"""


def rules_from(value: Mapping[str, Any] | None) -> SanityRules:
    """A task's rules as the viewers receive them (``SanityRules.as_dict()``), or the
    defaults."""
    defaults = SanityRules()
    if not value:
        return defaults
    given = {k: (float(v[0]), float(v[1])) for k, v in value.get("thresholds", {}).items()}
    return SanityRules({**defaults.thresholds, **given}, str(value.get("action", "badge")))


def _cascade(steps: list[Mapping[str, Any]]) -> str:
    """The rank correlation after each step of the cascade, as a 44x14 line (1 at the top)."""
    values = [float(s["spearman"]) for s in steps if s.get("spearman") is not None]
    if len(values) < 2:
        return ""
    points = " ".join(
        f"{2 + 40 * i / (len(values) - 1):.1f},{2 + 10 * (1 - max(-1.0, min(1.0, v))) / 2:.1f}"
        for i, v in enumerate(values)
    )
    return (
        '<svg width="44" height="14" viewBox="0 0 44 14" aria-hidden="true">'
        '<line x1="2" y1="7" x2="42" y2="7" stroke="#c8d0da" stroke-width="0.6"/>'
        f'<polyline points="{points}" fill="none" stroke="currentColor" stroke-width="1.4"/>'
        "</svg>"
    )


def sanity_badge(figures: Mapping[str, Any] | None, rules: SanityRules) -> tuple[str, Verdict]:
    """The badge of one method (HTML) and its verdict."""
    verdict = judge(figures, rules)
    lines = list(verdict.reasons)
    if figures:
        lines.append(
            f"SSIM after top-layer randomization {figures.get('randomization_ssim')}; "
            f"on {figures.get('examples')} examples"
        )
        steps = figures.get("randomization_steps") or []
        if steps:
            lines.append(
                "cascade (top layer first): "
                + ", ".join(f"{s['layer']} {s['spearman']}" for s in steps)
            )
    title = html.escape("\n".join(lines), quote=True)
    level = verdict.level
    label = "sanity: n/a" if level == "unknown" else f"sanity: {level}"
    cascade = _cascade(list(figures.get("randomization_steps") or [])) if figures else ""
    return (
        f'<span class="sanity {level}" title="{title}" data-sanity="{level}">'
        f"{label}{cascade}</span>",
        verdict,
    )

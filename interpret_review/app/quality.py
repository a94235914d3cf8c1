"""The admin page's Quality tab: agreement with intervals, a sortable reviewer table with
tiers and flags, the items with most disagreement (one click from their judgments), the
simulation scores per describer, and the trust-tier actions (apply rules, override).

The report is computed on demand (``Recompute``), since a reliability model over a large
project takes seconds; the time it was computed is shown with it.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.models.annotations import Whisker
from bokeh.models.widgets.tables import DataTable, NumberFormatter, TableColumn
from bokeh.plotting import figure

from interpret_review.app.host import Host
from interpret_review.errors import InterpretReviewError
from interpret_review.review import Project
from interpret_review.review.provenance import RunHistory, stale_labels

if TYPE_CHECKING:  # the quality room (pandas) is imported when the tab first computes
    from interpret_review.quality import QualityReport

__all__ = ["QualitySection", "agreement_figure", "reviewer_table", "scores_figure"]

QUALITY_CSS = """
.ir-stale { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 6px 10px; margin: 4px 0; }
.ir-flag { display: inline-block; padding: 0 6px; margin: 1px; border-radius: 8px;
           background: #fde7e6; color: #8c1d18; font-size: 12px; }
.ir-muted { color: #5f6b7a; font-size: 13px; }
"""


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


#: The figures shown as a tier change's evidence, in this order.
EVIDENCE = ("items", "gold_items", "gold_accuracy", "competence", "peer_agreement",
            "random_odds", "median_seconds", "flags")  # fmt: skip


def evidence_text(evidence: dict[str, Any]) -> str:
    """A tier change's evidence as one line: the figures it was decided on."""
    parts = []
    for name in EVIDENCE:
        value = evidence.get(name)
        if value is None:
            continue
        shown = (
            f"{value:,.0f}"
            if name == "random_odds"
            else (f"{value:.2f}" if isinstance(value, float) else str(value))
        )
        parts.append(f"{name.replace('_', ' ')} {shown}")
    return ", ".join(parts)


def agreement_figure(report: QualityReport) -> Any:
    """Krippendorff's alpha per task and field, with its 95% bootstrap interval."""
    rows = [
        a
        for t in report.tasks.values()
        for a in t.agreement
        if a.measure == "alpha" and a.value is not None
    ][::-1]
    labels = [f"{a.task} · {a.field} ({a.level})" for a in rows]
    source = ColumnDataSource(
        {
            "label": labels,
            "alpha": [a.value for a in rows],
            "low": [a.low if a.low is not None else a.value for a in rows],
            "high": [a.high if a.high is not None else a.value for a in rows],
            "units": [a.units for a in rows],
        }
    )
    lowest = min([a.low if a.low is not None else a.value or 0.0 for a in rows] or [0.0])
    plot = figure(
        y_range=labels or [""],  # type: ignore[arg-type]
        x_range=Range1d(start=min(-0.25, lowest - 0.05), end=1.02),
        height=max(140, 30 * len(labels) + 70),
        sizing_mode="stretch_width",
        toolbar_location=None,
        title="Krippendorff's alpha per task and answer field (95% bootstrap interval)",
    )
    plot.add_layout(
        Whisker(source=source, base="label", lower="low", upper="high", dimension="width")
    )
    plot.scatter("alpha", "label", source=source, size=9, color="#1f5fa8")
    for x, colour in ((0.667, "#e0a100"), (0.8, "#1e6b34")):
        plot.ray(x=x, y=0, length=0, angle=np.pi / 2, color=colour, line_dash="dashed")
    plot.add_tools(
        HoverTool(tooltips=[("", "@label"), ("alpha", "@alpha{0.00}"), ("units", "@units")])
    )
    plot.ygrid.grid_line_color = None
    return plot


def scores_figure(report: QualityReport) -> Any:
    """Each describer's simulation scores (one dot per verified description), with the mean."""
    scores: dict[str, list[float]] = {}
    for t in report.tasks.values():
        for describer, values in t.scores.items():
            scores.setdefault(describer, []).extend(values)
    names = sorted(scores)
    rng = np.random.default_rng(0)
    xs, ys, who = [], [], []
    for name in names:
        for s in scores[name]:
            xs.append(s)
            ys.append((name, float(rng.uniform(-0.25, 0.25))))
            who.append(name)
    plot = figure(
        y_range=names or [""],  # type: ignore[arg-type]
        x_range=Range1d(start=-1.05, end=1.05),
        height=max(140, 36 * len(names) + 70),
        sizing_mode="stretch_width",
        toolbar_location=None,
        title="Simulation scores of each describer's descriptions (stage 2)",
        x_axis_label="correlation of predicted with true activations",
    )
    plot.scatter(
        "x", "y", source=ColumnDataSource({"x": xs, "y": ys, "who": who}), size=7, alpha=0.6
    )
    means = ColumnDataSource(
        {
            "x": [float(np.mean(scores[n])) for n in names],
            "y": names,
            "n": [len(scores[n]) for n in names],
        }
    )
    plot.scatter("x", "y", source=means, marker="diamond", size=14, color="#b3261e")
    plot.add_tools(HoverTool(tooltips=[("describer", "@y"), ("score", "@x{0.00}"), ("n", "@n")]))
    return plot


def reviewer_table(report: QualityReport) -> Any:
    """A sortable table (click a header) of every reviewer's figures, tier and flags."""
    names = list(report.reviewers)
    figs = [report.reviewers[n] for n in names]
    data = {
        "reviewer": names,
        "tier": [
            report.tiers[n].tier + (" (paused)" if report.tiers[n].paused else "")
            if n in report.tiers
            else "–"
            for n in names
        ],
        "items": [f.items for f in figs],
        "gold": [f.gold_accuracy if f.gold_accuracy is not None else np.nan for f in figs],
        "gold_n": [f.gold_items for f in figs],
        "competence": [f.competence if f.competence is not None else np.nan for f in figs],
        "peer": [f.peer_agreement if f.peer_agreement is not None else np.nan for f in figs],
        "consensus": [f.agreement if f.agreement is not None else np.nan for f in figs],
        "seconds": [f.median_seconds if f.median_seconds is not None else np.nan for f in figs],
        "fast": [f.fast_share if f.fast_share is not None else np.nan for f in figs],
        "rushed": [f.rushed for f in figs],
        "flags": [", ".join(f.flags) for f in figs],
    }
    share = NumberFormatter(format="0.00", nan_format="–")
    columns = [
        TableColumn(field="reviewer", title="Reviewer"),
        TableColumn(field="tier", title="Tier"),
        TableColumn(field="items", title="Answers"),
        TableColumn(field="gold", title="Gold accuracy", formatter=share),
        TableColumn(field="gold_n", title="Gold items"),
        TableColumn(field="competence", title="Competence", formatter=share),
        TableColumn(field="peer", title="Matches peers", formatter=share),
        TableColumn(field="consensus", title="Matches consensus", formatter=share),
        TableColumn(
            field="seconds",
            title="Median s",
            formatter=NumberFormatter(format="0.0", nan_format="–"),
        ),
        TableColumn(field="fast", title="Too fast", formatter=share),
        TableColumn(field="rushed", title="Rushed"),
        TableColumn(field="flags", title="Flags", width=260),
    ]
    return DataTable(
        source=ColumnDataSource(data),
        columns=columns,
        sortable=True,
        index_position=None,
        height=min(40 + 28 * max(len(names), 1), 420),
        sizing_mode="stretch_width",
    )


class QualitySection(pn.viewable.Viewer):
    """The Quality tab of the admin page: ``project`` of ``host``, for researcher
    ``username``; every action runs through ``act(what, action)``, which checks the account
    again and reports how it went (:meth:`~interpret_review.app.admin.AdminPage.act`)."""

    def __init__(
        self,
        host: Host,
        project: Project,
        username: str,
        act: Callable[[str, Callable[[], str | None]], None],
    ) -> None:
        super().__init__()
        self.host, self.project, self.username = host, project, username
        self.act = act
        self.report: QualityReport | None = None
        self.status = pn.pane.HTML(stylesheets=[QUALITY_CSS], sizing_mode="stretch_width")
        self.stale = pn.pane.HTML(stylesheets=[QUALITY_CSS], sizing_mode="stretch_width")
        recompute = pn.widgets.Button(label="Recompute", width=120)
        recompute.on_click(lambda _: self.act("compute the quality report", self.compute))
        self.agreement_plot = pn.pane.Bokeh(sizing_mode="stretch_width")
        self.agreement_notes = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[QUALITY_CSS])
        self.reviewers = pn.pane.Bokeh(sizing_mode="stretch_width")
        self.flags = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[QUALITY_CSS])
        self.decisions = pn.pane.HTML(sizing_mode="stretch_width")
        apply = pn.widgets.Button(label="Apply tier rules", color="primary", width=160)
        apply.on_click(lambda _: self.act("apply the tier rules", self.apply_rules))
        self.who = pn.widgets.Select(label="Reviewer", width=180)
        self.tier = pn.widgets.TextInput(label="Tier", width=160, placeholder="trusted")
        self.pause = pn.widgets.Checkbox(label="Pause (no new items)")
        self.reason = pn.widgets.TextInput(
            label="Reason (recorded)", placeholder="why", sizing_mode="stretch_width"
        )
        override = pn.widgets.Button(label="Override tier", width=140)
        override.on_click(lambda _: self.act("override a tier", self.override))
        unpin = pn.widgets.Button(label="Back to the rules", width=150)
        unpin.on_click(lambda _: self.act("hand a tier back to the rules", self.unpin))
        self.history = pn.pane.HTML(sizing_mode="stretch_width")
        self.items = pn.widgets.Select(
            label="Items with most disagreement (click one to see its answers)",
            size=10,
            sizing_mode="stretch_width",
        )
        self.items.param.watch(lambda _: self.show_item(), "value")
        self.item_answers = pn.pane.HTML(sizing_mode="stretch_width")
        self.scores = pn.pane.Bokeh(sizing_mode="stretch_width")
        self.no_scores = pn.pane.HTML(stylesheets=[QUALITY_CSS])
        self.layout = pn.Column(
            pn.Row(recompute, self.status),
            self.stale,
            pn.pane.HTML("<h3>Agreement</h3>"),
            self.agreement_plot,
            self.agreement_notes,
            pn.pane.HTML("<h3>Reviewers</h3>"),
            self.reviewers,
            self.flags,
            pn.pane.HTML("<h3>Trust tiers</h3>"),
            self.decisions,
            apply,
            pn.Row(self.who, self.tier, self.pause),
            self.reason,
            pn.Row(override, unpin),
            self.history,
            pn.pane.HTML("<h3>Disagreement</h3>"),
            self.items,
            self.item_answers,
            pn.pane.HTML("<h3>Stage-2 scores</h3>"),
            self.no_scores,
            self.scores,
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self.layout

    # -- computing and showing ---------------------------------------------------------------

    def compute(self) -> str:
        started = time.perf_counter()
        self.layout.loading = True
        try:
            from interpret_review.quality import compute_report

            store, project = self.host.store(), self.host.current_project()
            self.report = compute_report(store, project)
            stale = stale_labels(store, project.name, RunHistory(store.runs(project.name)))
        finally:
            self.layout.loading = False
        self.stale.object = (
            "".join(
                f'<p class="ir-stale"><b>Stale labels</b> in task <b>{html.escape(task)}</b>: '
                f"{count}: {html.escape(stale.reasons[task])}. Exports mark them; review those "
                "items again in a new task.</p>"
                for task, count in stale.counts.items()
            )
            if stale.counts
            else '<p class="ir-muted">No stale labels: every label was made on its run as it is now.</p>'
        )
        took = time.perf_counter() - started
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
        self.status.object = f'<span class="ir-muted">Computed at {stamp} in {took:.1f} s</span>'
        self.render()
        return ""

    def render(self) -> None:
        report = self.report
        if report is None:
            return
        self.agreement_plot.object = agreement_figure(report)
        notes = [
            f"<tr><td>{html.escape(a.task)}</td><td>{html.escape(a.field)}</td>"
            f"<td>{html.escape(a.measure)} ({html.escape(a.level)})</td>"
            f'<td class="num">{_fmt(a.value)}</td><td class="num">{a.units}</td>'
            f"<td>{html.escape(a.note)}</td></tr>"
            for t in report.tasks.values()
            for a in t.agreement
        ]
        self.agreement_notes.object = (
            '<table class="ir-table agreement"><thead><tr><th>Task</th><th>Field</th>'
            '<th>Measure</th><th class="num">Value</th><th class="num">Units</th><th>Note</th>'
            "</tr></thead><tbody>" + "".join(notes) + "</tbody></table>"
        )
        self.reviewers.object = reviewer_table(report)
        flagged = [
            f"<li><b>{html.escape(name)}</b>: "
            + "; ".join(
                f'<span class="ir-flag">{html.escape(flag)}</span> {html.escape(text)}'
                for flag, text in r.evidence.items()
            )
            + "</li>"
            for name, r in report.reviewers.items()
            if r.flags
        ]
        self.flags.object = (
            "<p><b>Flags and their evidence</b></p><ul>" + "".join(flagged) + "</ul>"
            if flagged
            else '<p class="ir-muted">No reviewer is flagged.</p>'
        )
        changes = [d for d in report.decisions if d.changes]
        self.decisions.object = (
            "<p>The rules would change these tiers:</p><ul>"
            + "".join(
                f"<li><b>{html.escape(d.reviewer)}</b>: {html.escape(d.current)} → "
                f"{html.escape(d.tier)}{' (paused)' if d.pause else ''}"
                f"{' and role ' + html.escape(d.role) if d.role else ''} — "
                f"{html.escape(d.reason)}"
                f'<br><span class="ir-muted">{html.escape(evidence_text(d.evidence))}</span></li>'
                for d in changes
            )
            + "</ul>"
            if changes
            else '<p class="ir-muted">The tier rules change nobody now.</p>'
        )
        self.who.options = sorted(
            {a.username for a in self.host.store().reviewers()} - {self.username}
        )
        self.show_history()
        options = {}
        for t in report.tasks.values():
            for i in t.items[:20]:
                if i.share >= 1.0:
                    continue
                label = f"{t.task} · {i.address} — {i.share:.0%} agree of {i.answers}"
                options[label] = (t.task, i.address)
        self.items.options = options
        has_scores = any(t.scores for t in report.tasks.values())
        self.scores.object = scores_figure(report) if has_scores else None
        self.scores.visible = has_scores
        self.no_scores.object = (
            "" if has_scores else '<p class="ir-muted">No description has been verified yet.</p>'
        )

    def show_history(self) -> None:
        store, project = self.host.store(), self.project.name
        rows = store.tier_history(project)[-30:][::-1]
        body = "".join(
            f"<tr><td>{c.at:%Y-%m-%d %H:%M}</td><td>{html.escape(c.reviewer)}</td>"
            f"<td>{html.escape(c.tier)}{' (paused)' if c.paused else ''}</td>"
            f"<td>{html.escape(c.source)}{' · ' + html.escape(c.by) if c.by else ''}"
            f"{' · pinned' if c.pinned else ''}</td><td>{html.escape(c.reason)}</td>"
            f'<td class="ir-muted">{html.escape(evidence_text(c.evidence))}</td></tr>'
            for c in rows
        )
        self.history.object = (
            '<table class="ir-table tiers"><thead><tr><th>When</th><th>Reviewer</th>'
            "<th>Tier</th><th>By</th><th>Reason</th><th>Evidence</th></tr></thead><tbody>"
            + (body or '<tr><td colspan="6">No tier changes yet.</td></tr>')
            + "</tbody></table>"
        )

    def show_item(self) -> None:
        chosen = self.items.value
        if not chosen:
            self.item_answers.object = ""
            return
        task, address = chosen
        rows = self.host.store().current_of_item(self.project.name, task, address)
        body = "".join(
            f"<tr><td>{html.escape(j.reviewer)}</td><td>{j.duration_ms / 1000:.1f} s</td>"
            f"<td>{''.join(f'<b>{html.escape(k)}</b>: {html.escape(str(v))}<br>' for k, v in j.answers.items())}</td></tr>"
            for j in rows
        )
        self.item_answers.object = (
            f'<table class="ir-table item-answers"><caption>{html.escape(task)} · '
            f"{html.escape(address)}</caption><thead><tr><th>Reviewer</th><th>Time</th>"
            f"<th>Answers</th></tr></thead><tbody>{body}</tbody></table>"
        )

    # -- actions ----------------------------------------------------------------------------

    def apply_rules(self) -> str:
        from interpret_review.quality import QualityReport, apply_tiers

        self.compute()
        report = cast(QualityReport, self.report)  # compute() sets it
        made = apply_tiers(self.host.store(), self.project.name, report.decisions)
        self.compute()
        if not made:
            return "The tier rules change nobody."
        return "Changed: " + "; ".join(f"{c.reviewer} → {c.tier}" for c in made) + "."

    def override(self) -> str:
        if not self.who.value:
            raise InterpretReviewError("choose a reviewer")
        change = self.host.store().set_tier(
            self.project.name,
            self.who.value,
            self.tier.value or "",
            reason=self.reason.value or "",
            paused=self.pause.value,
            by=self.username,
        )
        self.reason.value = ""
        self.compute()
        return (
            f"{change.reviewer} is now {change.tier}{' (paused)' if change.paused else ''}; "
            "the rules leave this tier alone until you hand it back."
        )

    def unpin(self) -> str:
        store, project = self.host.store(), self.project.name
        current = store.tiers(project).get(self.who.value or "")
        if current is None or not current.pinned:
            raise InterpretReviewError(f"{self.who.value!r} has no overridden tier")
        store.set_tier(
            project,
            current.reviewer,
            current.tier,
            reason=self.reason.value or "handed back to the tier rules",
            paused=current.paused,
            pinned=False,
            by=self.username,
        )
        self.reason.value = ""
        self.compute()
        return f"{current.reviewer}'s tier follows the rules again (apply them to update it)."

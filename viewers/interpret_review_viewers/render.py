"""Pictures as HTML: images as PNG data URIs, colour scales, colour bars and histograms.

Everything here returns HTML text built from numbers and from text passed through
:func:`html.escape`; nothing a run or a reviewer wrote reaches the page unescaped. Small
images are sent at their own size and scaled up by the browser without smoothing
(``image-rendering: pixelated``), so an 8x8 digit costs about 100 bytes.
"""

from __future__ import annotations

import base64
import html
import io
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = [
    "Scale",
    "colorbar_svg",
    "colorize",
    "example_link",
    "grey",
    "histogram_svg",
    "img_tag",
    "overlay",
    "pickable",
    "png_data_uri",
    "scale_for",
    "to_map",
    "token_spans",
    "upsample",
]

# A diverging blue-white-red palette (ColorBrewer RdBu, reversed; 257 entries so that zero is the middle one): negative values blue,
# zero white, positive red. Non-negative maps use its white-to-red half.
_ANCHORS = np.array(
    [
        (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
    ],
    dtype=np.float64,
)  # fmt: skip
_LUT = np.stack(
    [np.interp(np.linspace(0, 1, 257), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c])
     for c in range(3)],
    axis=1,
).round().astype(np.uint8)  # fmt: skip


@dataclass(frozen=True)
class Scale:
    """A colour scale: ``signed`` maps ``-vmax..vmax`` to blue..red, else ``0..vmax`` to
    white..red."""

    vmax: float
    signed: bool

    @property
    def vmin(self) -> float:
        return -self.vmax if self.signed else 0.0


def to_map(values: np.ndarray) -> np.ndarray:
    """An attribution (C, H, W) as one (H, W) map: the sum over channels."""
    values = np.asarray(values, dtype=np.float32)
    return values.sum(axis=0) if values.ndim == 3 else values


def scale_for(*maps: np.ndarray) -> Scale:
    """The scale that fits ``maps``: symmetric when any value is negative."""
    finite = [m[np.isfinite(m)] for m in maps]
    values = np.concatenate([f.ravel() for f in finite]) if finite else np.zeros(1)
    if values.size == 0:
        return Scale(1.0, False)
    vmax = float(np.abs(values).max())
    return Scale(vmax if vmax > 0 else 1.0, bool((values < 0).any()))


def colorize(values: np.ndarray, scale: Scale) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 colours on ``scale``; NaN shows as grey."""
    values = np.asarray(values, dtype=np.float64)
    if scale.signed:
        position = (values / scale.vmax + 1.0) / 2.0
    else:
        position = 0.5 + np.clip(values / scale.vmax, 0.0, 1.0) / 2.0
    index = np.rint(np.nan_to_num(np.clip(position, 0.0, 1.0), nan=0.0) * 256).astype(np.int64)
    rgb = _LUT[index]
    rgb[~np.isfinite(values)] = (160, 160, 160)
    return rgb


def grey(display: np.ndarray) -> np.ndarray:
    """A display image (H, W) or (H, W, 3) uint8 as (H, W) float in 0..1."""
    image = np.asarray(display, dtype=np.float64) / 255.0
    return image.mean(axis=-1) if image.ndim == 3 else image


def overlay(display: np.ndarray, values: np.ndarray, scale: Scale) -> np.ndarray:
    """The example as grey ink on white, with ``values`` (H, W) painted over it where large.

    Each pixel's opacity is ``|value| / vmax`` (at most 0.85), so the digit stays visible
    where the attribution is weak.
    """
    base = 1.0 - 0.6 * grey(display)  # light ground, darker strokes: legible under colour
    base_rgb = np.repeat(base[..., None], 3, axis=-1) * 255.0
    colours = colorize(values, scale).astype(np.float64)
    alpha = np.clip(np.abs(np.nan_to_num(values)) / scale.vmax, 0.0, 1.0)[..., None] * 0.85
    return (base_rgb * (1 - alpha) + colours * alpha).round().astype(np.uint8)


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image (H, W), (H, W, 3) or (H, W, 4) as a ``data:image/png;base64`` URI."""
    array = np.ascontiguousarray(image, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def img_tag(image: np.ndarray, alt: str, size: int, css_class: str = "") -> str:
    """An ``<img>`` of ``image`` drawn ``size`` CSS pixels wide (height keeps the aspect)."""
    height, width = np.asarray(image).shape[:2]
    shown_height = max(1, round(size * height / width))
    extra = f' class="{html.escape(css_class)}"' if css_class else ""
    return (
        f'<img src="{png_data_uri(image)}" alt="{html.escape(alt)}" width="{size}" '
        f'height="{shown_height}"{extra}>'
    )


def pickable(image_html: str, address: str) -> str:
    """An image a click on which picks a place of item ``address`` (the linked views)."""
    return (
        f'<span class="ir-pick" data-pixel="{html.escape(address, quote=True)}" '
        f'title="click: the neurons that fire most here">{image_html}</span>'
    )


def example_link(run_name: str, row: int, title: str = "") -> str:
    """The attributes that make an element a link to example ``row``'s attribution item
    (the linked views)."""
    from interpret_review.addresses import item_address

    address = html.escape(item_address("attribution", run_name, int(row)), quote=True)
    return f'data-link="{address}"' + (
        f' title="{html.escape(title, quote=True)}"' if title else ""
    )


def upsample(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """An (h, w) map repeated to (height, width) (nearest neighbour)."""
    values = np.asarray(values)
    rows = (np.arange(height) * values.shape[0]) // height
    cols = (np.arange(width) * values.shape[1]) // width
    return values[rows][:, cols]


def _number(value: float) -> str:
    return f"{value:.3g}"


def colorbar_svg(scale: Scale, width: int = 120, label: str = "") -> str:
    """A horizontal colour bar with its end and middle values written under it."""
    stops = np.linspace(0.0, 1.0, 11)
    low = 0.0 if scale.signed else 0.5
    colours = _LUT[np.rint((low + stops * (1 - low)) * 256).astype(int)]
    gradient = "".join(
        f'<stop offset="{s:.2f}" stop-color="rgb({r},{g},{b})"/>'
        for s, (r, g, b) in zip(stops, colours, strict=True)
    )
    middle = 0.0 if scale.signed else scale.vmax / 2
    ident = f"cb{zlib.crc32(repr((scale, width, label)).encode()):08x}"
    title = html.escape(label or "colour scale")
    return (
        f'<svg class="colorbar" role="img" aria-label="{title}: {_number(scale.vmin)} to '
        f'{_number(scale.vmax)}" width="{width}" height="26" viewBox="0 0 {width} 26">'
        f'<defs><linearGradient id="{ident}">{gradient}</linearGradient></defs>'
        f'<rect x="0" y="0" width="{width}" height="9" fill="url(#{ident})" stroke="#999" '
        f'stroke-width="0.5"/>'
        f'<text x="0" y="22" font-size="9" text-anchor="start">{_number(scale.vmin)}</text>'
        f'<text x="{width / 2}" y="22" font-size="9" text-anchor="middle">{_number(middle)}</text>'
        f'<text x="{width}" y="22" font-size="9" text-anchor="end">{_number(scale.vmax)}</text>'
        "</svg>"
    )


def histogram_svg(
    counts: np.ndarray,
    edges: np.ndarray,
    *,
    marks: dict[str, tuple[np.ndarray, str]] | None = None,
    width: int = 360,
    height: int = 120,
    label: str = "activation",
) -> str:
    """A bar chart of ``counts`` over ``edges`` (B + 1), with the values in ``marks``
    (``name -> (values, colour)``) drawn as ticks under the axis. Each bar's range and count
    show on hover."""
    counts = np.asarray(counts, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    left, right, top, bottom = 6.0, 6.0, 6.0, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = float(edges[0]), float(edges[-1])
    span = high - low if high > low else 1.0
    peak = float(counts.max()) if counts.size and counts.max() > 0 else 1.0

    def x_of(value: float) -> float:
        return left + (value - low) / span * plot_w

    parts = [
        f'<svg class="histogram" role="img" aria-label="{html.escape(label)} histogram over '
        f'{int(counts.sum())} examples" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    ]
    for count, start, stop in zip(counts, edges[:-1], edges[1:], strict=True):
        bar_h = plot_h * count / peak
        x0, x1 = x_of(start), x_of(stop)
        parts.append(
            f'<rect x="{x0:.2f}" y="{top + plot_h - bar_h:.2f}" width="{max(x1 - x0 - 0.5, 0.5):.2f}"'
            f' height="{bar_h:.2f}" fill="#8a9bb0"><title>{_number(start)} to {_number(stop)}: '
            f"{int(count)} examples</title></rect>"
        )
    axis_y = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#444" '
        'stroke-width="0.8"/>'
    )
    for row, (name, (values, colour)) in enumerate((marks or {}).items()):
        y = axis_y + 3 + row * 6
        for value in np.asarray(values, dtype=np.float64).ravel():
            if np.isfinite(value):
                x = x_of(float(value))
                parts.append(
                    f'<line x1="{x:.2f}" y1="{y}" x2="{x:.2f}" y2="{y + 5}" '
                    f'stroke="{html.escape(colour)}" stroke-width="1.5"><title>'
                    f"{html.escape(name)}: {_number(float(value))}</title></line>"
                )
    parts.append(
        f'<text x="{left}" y="{height - 2}" font-size="9">{_number(low)}</text>'
        f'<text x="{left + plot_w / 2}" y="{height - 2}" font-size="9" text-anchor="middle">'
        f"{html.escape(label)}</text>"
        f'<text x="{left + plot_w}" y="{height - 2}" font-size="9" text-anchor="end">'
        f"{_number(high)}</text></svg>"
    )
    return "".join(parts)


def token_spans(
    tokens: list[str],
    values: np.ndarray,
    scale: Scale,
    *,
    marked: int | None = None,
    of: str | None = None,
) -> str:
    """Tokens as HTML spans, each shaded by its value on ``scale`` (its value in a tooltip);
    token ``marked`` (say, a neuron's max-activating token) is outlined. With ``of`` (the
    item's address) each token also says its index, so a click on it can be linked.

    Every token is escaped before it is shaded, and the only styles set are the two colours
    computed here: a token that holds HTML or script shows as text (Captum's
    ``visualize_text`` passes ``<script>`` through; this does not)."""
    values = np.asarray(values, dtype=np.float64)
    colours = colorize(values[None, :], scale)[0] if len(tokens) else np.zeros((0, 3))
    spans = []
    for i, (token, rgb) in enumerate(zip(tokens, colours, strict=True)):
        r, g, b = (int(c) for c in rgb)
        text = "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 110 else "#1d2733"
        value = values[i]
        title = f"{token} · {_number(value) if np.isfinite(value) else 'n/a'}"
        css = "ir-token ir-max" if i == marked else "ir-token"
        shown = _number(value) if np.isfinite(value) else ""
        link = "" if of is None else f' data-token="{i}" data-of="{html.escape(of, quote=True)}"'
        spans.append(
            f'<span class="{css}" style="background-color:#{r:02x}{g:02x}{b:02x};color:{text}" '
            f'title="{html.escape(title, quote=True)}" data-value="{shown}"{link}>'
            f"{html.escape(token)}</span>"
        )
    return " ".join(spans)

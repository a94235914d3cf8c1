"""Pictures for viewers: colour scales, PNGs, colour bars and histograms."""

from __future__ import annotations

import base64
import io

import numpy as np
from interpret_review_viewers.render import (
    colorbar_svg,
    colorize,
    histogram_svg,
    img_tag,
    overlay,
    png_data_uri,
    scale_for,
    to_map,
)
from PIL import Image


def test_signed_maps_get_a_symmetric_scale_and_zero_is_white() -> None:
    values = np.array([[-2.0, 0.0, 1.0]])
    scale = scale_for(values)
    assert scale.signed and scale.vmax == 2.0 and scale.vmin == -2.0
    rgb = colorize(values, scale)
    assert rgb[0, 0, 2] > rgb[0, 0, 0]  # negative: blue
    assert tuple(rgb[0, 1]) == (247, 247, 247)  # zero: white
    assert rgb[0, 2, 0] > rgb[0, 2, 2]  # positive: red


def test_non_negative_maps_start_at_white() -> None:
    scale = scale_for(np.array([0.0, 3.0]))
    assert not scale.signed and scale.vmin == 0.0
    assert tuple(colorize(np.array([0.0]), scale)[0]) == (247, 247, 247)


def test_nan_and_all_zero_maps_do_not_break() -> None:
    assert scale_for(np.zeros((2, 2))).vmax == 1.0
    rgb = colorize(np.array([np.nan, 1.0]), scale_for(np.array([np.nan, 1.0])))
    assert tuple(rgb[0]) == (160, 160, 160)


def test_png_round_trips() -> None:
    image = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    uri = png_data_uri(image)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert np.array_equal(decoded, image)
    assert 'alt="a &lt;b&gt;"' in img_tag(image, "a <b>", 96)


def test_channels_are_summed_and_overlay_keeps_shape() -> None:
    values = np.ones((3, 4, 5))
    assert to_map(values).shape == (4, 5) and to_map(values)[0, 0] == 3
    out = overlay(np.zeros((4, 5), np.uint8), to_map(values), scale_for(to_map(values)))
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8


def test_svg_text_is_escaped() -> None:
    svg = histogram_svg(np.array([1, 2]), np.array([0.0, 1.0, 2.0]), label="<script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "0 to 1: 1 examples" in svg
    assert "<script>" not in colorbar_svg(scale_for(np.ones(2)), label="<script>")


def test_tokens_are_escaped_before_they_are_shaded() -> None:
    import re

    import numpy as np
    from interpret_review_viewers.render import Scale, token_spans

    hostile = ["<script>alert(1)</script>", '" onmouseover="alert(2)', "&amp;", "plain", "<b>"]
    html_text = token_spans(hostile, np.array([1.0, -1.0, 0.0, 0.5, np.nan]), Scale(1.0, True),
                            marked=0)  # fmt: skip
    assert "<script" not in html_text and "<b>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "&amp;amp;" in html_text  # an entity in a token is shown as typed
    spans = re.findall(r"<span ([^>]*)>", html_text)
    assert len(spans) == len(hostile)
    for attributes in spans:  # only class, style (two colours), an escaped title, a number
        names = re.findall(r'([\w-]+)="', attributes)
        assert names == ["class", "style", "title", "data-value"], attributes
        assert re.search(r'data-value="(-?[0-9.e+-]*)"$', attributes), attributes
        style = re.search(r'style="([^"]*)"', attributes).group(1)
        assert re.fullmatch(r"background-color:#[0-9a-f]{6};color:#[0-9a-f]{6}", style)
    assert 'class="ir-token ir-max"' in spans[0] and "ir-max" not in "".join(spans[1:])
    assert "background-color:#67001f" in spans[0]  # the strongest positive: darkest red
    assert "background-color:#053061" in spans[1]  # the strongest negative: darkest blue
    assert "background-color:#a0a0a0" in spans[4] and "n/a" in spans[4]  # NaN: grey

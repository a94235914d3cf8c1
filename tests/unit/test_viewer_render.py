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

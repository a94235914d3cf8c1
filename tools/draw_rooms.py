"""Draw docs/rooms.svg: the rooms of interpret-review, bottom up, and the imports between them.

The layers and the edges come from the code (the same reading of the import graph as
``tests/unit/test_rooms.py``): every arrow is an import of a room by the room above it.
``python tools/draw_rooms.py`` rewrites the picture; a test checks that it is current.
"""

from __future__ import annotations

import html
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "rooms.svg"

#: What each room holds, in a few words (the picture's labels).
ABOUT = {
    "store": "HDF5 runs (h5py)",
    "generation": "Captum, torch",
    "judgments": "SQL (SQLAlchemy)",
    "review": "projects, sessions",
    "quality": "agreement, tiers",
    "export": "labels, probes",
    "viewers": "item viewers (Panel)",
    "app": "pages, server",
    "demo": "demo builder",
    "cli": "interpret-review",
    "__main__": "python -m",
}


def _rooms_test():
    spec = importlib.util.spec_from_file_location("test_rooms", ROOT / "tests/unit/test_rooms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_rooms"] = module
    spec.loader.exec_module(module)
    return module


#: The rooms every room may import; drawn as one band, their arrows left out.
FOUNDATION = ("_version", "_compat", "errors", "settings", "resources", "addresses")


def room_edges() -> set[tuple[str, str]]:
    """(importer, imported) for every import between two rooms above the foundation."""
    rooms = _rooms_test()
    edges = set()
    for module, deps in rooms.GRAPH.items():
        for dep in deps:
            pair = (rooms.room_of(module), rooms.room_of(dep))
            if pair[0] != pair[1] and not {"facade", *FOUNDATION} & set(pair):
                edges.add(pair)
    return edges


def _name(room: str) -> str:
    return f"{room}.py" if room in ("demo", "cli", "__main__") else f"{room}/"


def svg() -> str:
    rooms = _rooms_test()
    layers = [layer for layer in rooms.LAYERS if not set(layer) <= set(FOUNDATION)]
    width, box_w, box_h, gap_y, top = 760, 170, 44, 34, 50
    height = top + len(layers) * (box_h + gap_y) + box_h + 20
    where: dict[str, tuple[float, float]] = {}
    for level, layer in enumerate(reversed(layers)):
        y = top + level * (box_h + gap_y)
        step = width / (len(layer) + 1)
        for i, room in enumerate(layer):
            where[room] = (step * (i + 1) - box_w / 2, y)
    parts = []
    for source, target in sorted(room_edges()):
        (x1, y1), (x2, y2) = where[source], where[target]
        parts.append(
            f'<line x1="{x1 + box_w / 2:.0f}" y1="{y1 + box_h:.0f}" x2="{x2 + box_w / 2:.0f}" '
            f'y2="{y2:.0f}" stroke="#8797a8" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
    for room, (x, y) in where.items():
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="6" '
            'fill="#eef3f8" stroke="#1d2733"/>'
            f'<text x="{x + box_w / 2:.0f}" y="{y + 18:.0f}" text-anchor="middle" '
            f'font-weight="600">{html.escape(_name(room))}</text>'
            f'<text x="{x + box_w / 2:.0f}" y="{y + 35:.0f}" text-anchor="middle" '
            f'fill="#4a5a6a" font-size="11">{html.escape(ABOUT.get(room, ""))}</text>'
        )
    band_y = top + len(layers) * (box_h + gap_y)
    foundation = ", ".join(f"{room}.py" for room in FOUNDATION)
    parts.append(
        f'<rect x="40" y="{band_y}" width="{width - 80}" height="{box_h}" rx="6" '
        'fill="#f6f1e4" stroke="#1d2733"/>'
        f'<text x="{width / 2:.0f}" y="{band_y + 18}" text-anchor="middle" font-weight="600">'
        "foundation: imported by any room (arrows left out)</text>"
        f'<text x="{width / 2:.0f}" y="{band_y + 35}" text-anchor="middle" fill="#4a5a6a" '
        f'font-size="11">{html.escape(foundation)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="13">\n'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#8797a8"/></marker></defs>\n'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>\n'
        '<text x="20" y="28" font-size="15" font-weight="600">The rooms of interpret-review: '
        "each imports only from rooms below it</text>\n" + "\n".join(parts) + "\n</svg>\n"
    )


if __name__ == "__main__":
    OUT.write_text(svg(), encoding="utf-8")
    print(f"wrote {OUT}")

"""The kernel-free explorer: one precomputed frame per value, deterministic, self-contained HTML.

The browser suite (tests/test_browser.py) moves the sliders of the chapters' explorers in
chromium; these tests check the library function itself.
"""
from __future__ import annotations

import base64
import io
import json
import re

import matplotlib
import pytest

matplotlib.use("Agg")

from PIL import Image  # noqa: E402

from collapselab.static_explorer import slider_explorer  # noqa: E402


def _draw(fig, slope):
    ax = fig.subplots()
    ax.plot([0, 1], [0, slope])
    ax.set_ylim(-3, 3)
    ax.set_title(f"slope {slope}")


def _explorer(**kw):
    args = dict(name="test-slope", label="slope", start=1, value_format="{:g}",
                alt="a line of slope {value}", figsize=(3.0, 2.0), dpi=50)
    args.update(kw)
    return slider_explorer(_draw, [-2, 0.5, 2], **args)


def test_frames_html_and_weight():
    ex = _explorer()
    assert ex.labels == ["-2", "0.5", "2"] and ex.values == [-2, 0.5, 2]
    assert ex.alts == [f"a line of slope {v}" for v in ex.labels]
    assert len(set(ex.frames)) == 3  # each value drew its own picture
    for frame in ex.frames:
        with Image.open(io.BytesIO(frame)) as im:
            assert im.size == (150, 100) == (ex.width, ex.height)  # figsize * dpi, every frame
            assert im.mode == "P"  # palette PNG: a light page
    assert ex.nbytes == len(ex.html.encode())
    # the start frame is shown without JavaScript; the others are in the page's JSON data
    first = re.search(r'<img src="data:image/png;base64,([^"]+)"', ex.html).group(1)
    assert base64.b64decode(first) == ex.frames[1]
    data = json.loads(re.search(r'<script type="application/json" class="cl-explorer-data">(.*?)</script>',
                                ex.html, re.S).group(1))
    assert [base64.b64decode(f) for f in data["frames"]] == ex.frames
    assert data["labels"] == ex.labels and data["alts"] == ex.alts
    assert 'id="cl-explorer-test-slope"' in ex.html and 'max="2"' in ex.html and 'value="1"' in ex.html
    # nothing to fetch: no URL other than data: URLs
    assert not re.search(r"(src|href)=\"(?!data:)", ex.html) and "http" not in ex.html
    bundle = ex._repr_mimebundle_()
    assert bundle["text/html"] == ex.html
    assert base64.b64decode(bundle["image/png"]) == ex.frames[1]


def test_deterministic():
    assert _explorer().html == _explorer().html


def test_callable_formats():
    ex = _explorer(value_format=lambda v: f"s={v}", alt=lambda v: f"slope {v}")
    assert ex.labels == ["s=-2", "s=0.5", "s=2"] and ex.alts[0] == "slope -2"


@pytest.mark.parametrize("kw, match", [
    (dict(draw=1), "draw"), (dict(values=[1]), "values"), (dict(values="ab"), "values"),
    (dict(name="Bad Name"), "name"), (dict(label=" "), "label"), (dict(start=3), "start"),
    (dict(values=[1, 1.0], value_format="{:g}"), "distinct"), (dict(figsize=(0, 2)), r"figsize\[0\]"),
    (dict(figsize=3), "figsize"), (dict(dpi=1), "dpi"), (dict(colors=1), "colors"),
    (dict(alt=3), "alt"), (dict(value_format=3), "value_format"), (dict(value_format="{a}"), "value_format"),
])
def test_validation(kw, match):
    args = dict(draw=_draw, values=[1, 2], name="x", label="slope")
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        slider_explorer(args.pop("draw"), args.pop("values"), **args)

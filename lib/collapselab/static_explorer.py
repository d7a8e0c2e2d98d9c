"""Explorers that work in the static HTML page, without a Python kernel.

:func:`slider_explorer` runs a simulation for every value of one parameter when the book is
built, draws one figure per value, and returns a small self-contained HTML block: the figure for
the start value and a slider that swaps in the figure of another value.  The frames are PNG
images embedded in the page (``data:`` URLs) and the slider is a dozen lines of plain inline
JavaScript, so the page makes no request and needs no kernel, no widget manager and no network.

Why not matplotlib's ``Animation.to_jshtml``: in the pinned matplotlib (3.11) its HTML links the
Font Awesome style sheet from a CDN (a request leaving the page, and blank buttons offline) and
tags its elements with a random ``uuid4``, so two builds of the same chapter differ.  The HTML
here is a deterministic function of the figures and the arguments, which the reproducibility
tests (two executions of every chapter compared output by output) rely on.

The live ipywidgets explorer (:func:`collapselab.widgets.loop_explorer`) stays the tool for a
local Jupyter session; this one is its companion on the web page.  Used in chapters 2, 3 and 8;
tested in ``tests/test_static_explorer.py`` and, in a real browser, ``tests/test_browser.py``.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._validate import check_int, check_real

__all__ = ["slider_explorer", "SliderExplorer"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SliderExplorer:
    """What :func:`slider_explorer` returns; it displays as its HTML in a notebook or the book.

    Attributes
    ----------
    name : the explorer's identifier (its HTML ``id`` is ``cl-explorer-<name>``).
    values, labels, alts : the parameter values, their slider labels and each frame's alt text.
    frames : the PNG bytes of each frame; width, height : their size in pixels.
    start : index of the frame shown first.
    html : the self-contained HTML block; nbytes : its size in bytes (what it adds to the page).
    """

    def __init__(self, name, label, values, labels, alts, frames, width, height, start):
        self.name = name
        self.label = label
        self.values = list(values)
        self.labels = list(labels)
        self.alts = list(alts)
        self.frames = list(frames)
        self.width = width
        self.height = height
        self.start = start
        self.html = _render_html(self)
        self.nbytes = len(self.html.encode("utf-8"))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # text/html for the web page and Jupyter; the start frame as PNG for other outputs (PDF)
        return {"text/html": self.html, "image/png": base64.b64encode(self.frames[self.start]).decode(),
                "text/plain": repr(self)}

    def __repr__(self):
        return (f"SliderExplorer({self.name!r}: {len(self.frames)} frames of {self.width}x"
                f"{self.height} px over {self.label} = {self.labels}, {self.nbytes / 1000:.0f} kB)")


def slider_explorer(draw: Callable[[Any, Any], Any], values: Sequence, *, name: str, label: str,
                    start: int = 0, value_format: str | Callable[[Any], str] = "{}",
                    alt: str | Callable[[Any], str] = "", figsize: tuple[float, float] = (5.6, 3.2),
                    dpi: float = 110.0, colors: int = 256) -> SliderExplorer:
    """Precompute one figure per parameter value and switch between them with a slider.

    Parameters
    ----------
    draw : ``draw(fig, value)`` draws the picture for one value on the empty matplotlib figure
        ``fig`` (it adds its own axes, e.g. ``fig.subplots(1, 2)``).  Run the simulation inside
        it, with a fixed seed, so every frame is reproducible.
    values : two or more parameter values, in slider order.
    name : identifier of the explorer on its page: lower-case letters, digits and hyphens.
    label : what the slider moves (e.g. ``"batch size n"``); shown next to it.
    start : index into ``values`` of the frame shown first.
    value_format : a format string (``"{:g}"``) or a callable ``value -> str`` for the value
        shown next to the slider.
    alt : alt text of the image, a format string with ``{value}`` (the formatted value) or a
        callable ``value -> str``; it changes with the frame.
    figsize, dpi : size of each frame in inches and its resolution; the image's natural width is
        ``figsize[0] * dpi`` pixels.  Keep it at most the width of the book's text column (about
        620 px), so the frame is shown at its natural size.
    colors : each frame is stored as a palette PNG with this many colours (2..256), which keeps
        the page light; line plots look the same.

    Returns a :class:`SliderExplorer` (displayed as its HTML; ``.nbytes`` is its page weight).
    Chapters 2, 3 and 8; tested in ``tests/test_static_explorer.py`` and ``tests/test_browser.py``.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a callable draw(fig, value), got {draw!r}")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"values must be a sequence of parameter values, got {values!r}")
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"values must hold at least two parameter values, got {values!r}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be lower-case letters, digits and hyphens, got {name!r}")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    start = check_int("start", start, minimum=0, maximum=len(values) - 1)
    fmt = _formatter("value_format", value_format)
    labels = [fmt(v) for v in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"values must give distinct labels under value_format, got {labels}")
    if isinstance(alt, str):
        alt_text = lambda v, s=alt: s.format(value=fmt(v))  # noqa: E731
    elif callable(alt):
        alt_text = alt
    else:
        raise ValueError(f"alt must be a format string or a callable value -> str, got {alt!r}")
    if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2):
        raise ValueError(f"figsize must be a pair (width, height) in inches, got {figsize!r}")
    fw = check_real("figsize[0]", figsize[0], 0.0, 40.0, strict_min=True)
    fh = check_real("figsize[1]", figsize[1], 0.0, 40.0, strict_min=True)
    dpi = check_real("dpi", dpi, 10.0, 600.0)
    colors = check_int("colors", colors, minimum=2, maximum=256)

    import matplotlib.pyplot as plt
    from PIL import Image

    frames, alts, size = [], [], None
    for v in values:
        fig = plt.figure(figsize=(fw, fh), dpi=dpi)
        try:
            draw(fig, v)
            buf = io.BytesIO()
            # no bbox_inches="tight": every frame keeps the same pixel size
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        finally:
            plt.close(fig)
        buf.seek(0)
        with Image.open(buf) as im:
            pal = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                             dither=Image.Dither.NONE)
            if size is None:
                size = pal.size
            out = io.BytesIO()
            pal.save(out, format="PNG", optimize=True)
        frames.append(out.getvalue())
        text = alt_text(v)
        if not isinstance(text, str):
            raise ValueError(f"alt must give a string, got {text!r} for value {v!r}")
        alts.append(text)
    return SliderExplorer(name, label, values, labels, alts, frames, size[0], size[1], start)


def _formatter(name: str, spec) -> Callable[[Any], str]:
    if isinstance(spec, str):
        try:
            spec.format(0)
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"{name} must be a format string with one field, got {spec!r}") from exc
        return spec.format
    if callable(spec):
        return lambda v: str(spec(v))
    raise ValueError(f"{name} must be a format string or a callable value -> str, got {spec!r}")


_SCRIPT = """(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script.cl-explorer-data").textContent);
  var img = root.querySelector("img"), slider = root.querySelector("input"),
      out = root.querySelector("output");
  function show(i) {
    img.src = "data:image/png;base64," + data.frames[i];
    img.alt = data.alts[i];
    out.textContent = data.labels[i];
    slider.setAttribute("aria-valuetext", data.labels[i]);
  }
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
})();"""


def _render_html(ex: SliderExplorer) -> str:
    rid = f"cl-explorer-{ex.name}"
    frames = [base64.b64encode(f).decode("ascii") for f in ex.frames]
    # "</" cannot occur in base64 or in the escaped JSON strings, so the script element is safe
    data = json.dumps({"frames": frames, "labels": ex.labels, "alts": ex.alts},
                      ensure_ascii=True).replace("</", "<\\/")
    e = html.escape
    return (
        f'<div class="cl-explorer" id="{rid}" data-frames="{len(frames)}">\n'
        f'<img src="data:image/png;base64,{frames[ex.start]}" alt="{e(ex.alts[ex.start])}" '
        f'width="{ex.width}" height="{ex.height}" style="max-width:100%;height:auto;display:block">\n'
        f'<div class="cl-explorer-controls" style="display:flex;align-items:center;gap:0.75em;'
        f'flex-wrap:wrap;margin:0.4em 0">'
        f'<label for="{rid}-slider">{e(ex.label)}</label>'
        f'<input type="range" id="{rid}-slider" min="0" max="{len(frames) - 1}" step="1" '
        f'value="{ex.start}" aria-valuetext="{e(ex.labels[ex.start])}" style="flex:1 1 12em;'
        f'max-width:22em">'
        f'<output for="{rid}-slider" style="font-weight:bold;min-width:4em">'
        f'{e(ex.labels[ex.start])}</output></div>\n'
        f'<script type="application/json" class="cl-explorer-data">{data}</script>\n'
        f'<script>{_SCRIPT % {"id": rid}}</script>\n'
        f'</div>')

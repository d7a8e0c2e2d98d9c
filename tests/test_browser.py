"""Every page of the built book as a reader sees it, in a real browser.

Debian's ``chromium`` driven by the ``playwright`` Python package (its wheel carries the driver;
``playwright install`` is never needed).  Each page of ``_build/html`` is opened from
``file://`` in a fresh browser context at a desktop viewport and checked for:

* maths rendered: every ``.math`` element typeset by MathJax, no MathJax error, no raw TeX
  (``\\command``, ``\\(``, ``$...$``) left in the text outside code;
* zero requests leaving ``file://`` (any ``http(s)`` request is recorded and aborted) and no
  console errors or uncaught exceptions;
* no element wider than the content column outside a scroll box, and no display equation or
  table that needs a horizontal scroll bar (code and its outputs may scroll);
* every figure shown at >= 0.85 of its natural width, its text (estimated from the PNG's dpi and
  the book style's font size) >= 9 px on screen, and all other text >= 9 px;
* solutions hidden until their title is clicked and shown on click;
* the dark-mode switch turns the page dark;
* each kernel-free explorer (``collapselab.static_explorer``) changes its image when its slider
  moves, and every chapter with a live explorer (``loop_explorer``) has one.

All pages are visited once (module fixture); each check then reports every offending page.  The
measurements go to ``_build/browser-report.json`` and screenshots of a few pages to
``_build/screenshots/``.  Needs the built book (``book_html`` in conftest.py: built once per
test run, or ``BOOK_HTML=_build/html`` to reuse a build).
"""
from __future__ import annotations

import json
import pathlib
import re
import shutil
import struct
import time
import urllib.parse

import pytest

from conftest import ROOT, chapter_paths

VIEWPORT = {"width": 1280, "height": 900}   # a laptop screen
MOBILE = {"width": 400, "height": 860}
MIN_SCALE = 0.85                           # figure shown / natural width
MIN_TEXT_PX = 9.0
STYLE_FONT_PT = 10.0                       # collapselab.plotting.use_book_style: font.size
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
REPORT = ROOT / "_build" / "browser-report.json"
SCREENSHOT_PAGES = ("intro.html", "chapters/02_gaussian.html", "chapters/08_contraction.html",
                    "references.html")

INSTALL_HINT = ("Debian's chromium is needed for the browser tests: `apt-get install -y chromium` "
                "(as root; .ci/run does this when it is missing). Do not run `playwright install`.")


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium not found on PATH. " + INSTALL_HINT, pytrace=False)
    return exe


def _pages(html) -> list[str]:
    """Every page of the book (not the assets, not index.html's redirect to the first page)."""
    skip = ("_static", "_sources", "_images", "_downloads")
    refresh = re.compile(r'<meta[^>]+http-equiv="refresh"', re.I)
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                  if not p.relative_to(html).parts[0].startswith(skip)
                  and not refresh.search(p.read_text(errors="replace")[:2000]))


def _png_dpi(path) -> float | None:
    """The resolution stored in a PNG's pHYs chunk (matplotlib writes the figure's dpi)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    i = data.find(b"pHYs")
    if i < 0 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    x, _, unit = struct.unpack(">IIB", data[i + 4:i + 13])
    return x * 0.0254 if unit == 1 else None


# --- what runs in the page --------------------------------------------------------------------
_WAIT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  return true;
}"""

_SOLUTIONS = """() => {
  // sphinx-exercise solutions with :class: dropdown, hidden by sphinx-togglebutton
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) &&
                      getComputedStyle(el).visibility !== 'hidden';
  return Array.from(document.querySelectorAll('article .solution')).map((sol, i) => {
    sol.setAttribute('data-test-solution', i);
    const title = sol.querySelector('.admonition-title');
    const body = Array.from(sol.children).filter(c => c !== title && !c.matches('button'));
    return {i, id: sol.id || (title ? title.textContent.trim().slice(0, 60) : ''),
            body: body.length, visible: body.some(shown)};
  });
}"""

_SOLUTION_VISIBLE = """(i) => {
  const sol = document.querySelector(`[data-test-solution="${i}"]`);
  const title = sol.querySelector('.admonition-title');
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) &&
                      getComputedStyle(el).visibility !== 'hidden';
  return Array.from(sol.children).filter(c => c !== title && !c.matches('button')).some(shown);
}"""

_MEASURE = """(args) => {
  const [minScale, minPx] = args;
  const article = document.querySelector('article.bd-article') || document.querySelector('main') ||
                  document.body;
  const acs = getComputedStyle(article), ar = article.getBoundingClientRect();
  const colLeft = ar.left + parseFloat(acs.paddingLeft), colRight = ar.right - parseFloat(acs.paddingRight);
  const visible = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const describe = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + Array.from(el.classList).slice(0, 3).join('.');
    const sec = el.closest('section[id]');
    return {el: s, section: sec ? sec.id : '', text: (el.textContent || el.alt || '').trim().replace(/\\s+/g, ' ').slice(0, 80)};
  };
  const kindOf = el => {
    if (el.matches('.math, mjx-container') || el.querySelector('mjx-container[display="true"]')) return 'math';
    if (el.matches('table, .table-wrapper, .pst-scrollable-table-container') || el.querySelector('table')) return 'table';
    if (el.closest('.cell, .highlight, pre, .output') || el.matches('pre, .highlight') ||
        el.querySelector('pre')) return 'code';
    return 'other';
  };
  const scrolls = el => /(auto|scroll)/.test(getComputedStyle(el).overflowX);
  const clips = el => /(hidden|clip)/.test(getComputedStyle(el).overflowX);

  // 1. maths
  const mathEls = Array.from(article.querySelectorAll('.math'));
  const untypeset = mathEls.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
  const merrors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80));
  const rawTex = [];
  const texRe = /\\\\(?:[A-Za-z]{2,}|[()\\[\\]])|\\$[^$\\s][^$]{0,300}?\\$/;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight, kbd, samp, .MathJax')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const small = [];
  let minText = null;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent;
    const m = t.match(texRe);
    if (m) rawTex.push({match: m[0].slice(0, 60), context: t.trim().slice(0, 120)});
    if (t.trim() && visible(n.parentElement)) {
      const px = parseFloat(getComputedStyle(n.parentElement).fontSize);
      if (minText === null || px < minText) minText = px;
      if (px < minPx) small.push({px, ...describe(n.parentElement)});
    }
  }
  // code and outputs are text too (in pre), measured the same way
  for (const el of article.querySelectorAll('pre')) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (minText === null || px < minText) minText = px;
    if (px < minPx) small.push({px, ...describe(el)});
  }

  // 2. overflow: outermost elements sticking out of the column, not inside a scroll box
  const overflow = [], scrolled = [];
  const all = Array.from(article.querySelectorAll('*'));
  const reported = new Set();
  for (const el of all) {
    // MathJax's assistive MathML is for screen readers: clipped to nothing on purpose
    if (!visible(el) || el.closest('mjx-assistive-mml')) continue;
    let anc = el.parentElement, inScroll = false, clippedBy = null, inReported = false;
    while (anc && anc !== article) {
      if (reported.has(anc)) { inReported = true; break; }
      if (scrolls(anc)) { inScroll = true; break; }
      if (!clippedBy && clips(anc)) clippedBy = anc;
      anc = anc.parentElement;
    }
    if (inReported || inScroll) continue;
    const r = el.getBoundingClientRect();
    if (r.right > colRight + 1 || r.left < colLeft - 1) {
      reported.add(el);
      overflow.push({width: Math.round(r.width), column: Math.round(colRight - colLeft),
                     clipped: !!clippedBy, kind: kindOf(el), ...describe(el)});
    }
  }
  // scroll boxes whose content is wider than the box
  for (const el of all) {
    if (!visible(el) || !scrolls(el) || el.closest('mjx-assistive-mml')) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      scrolled.push({width: el.scrollWidth, box: el.clientWidth, kind: kindOf(el), ...describe(el)});
    }
  }

  // 3. figures: images in the article, shown / natural width
  const figures = [];
  for (const img of article.querySelectorAll('img')) {
    if (!img.naturalWidth || img.naturalWidth < 64 || !visible(img)) continue;
    const shown = img.getBoundingClientRect().width;
    figures.push({src: img.currentSrc.startsWith('data:') ? 'data:' + img.closest('[id]').id : img.currentSrc,
                  natural: img.naturalWidth, shown: Math.round(shown * 10) / 10,
                  scale: Math.round(shown / img.naturalWidth * 1000) / 1000,
                  explorer: !!img.closest('.cl-explorer'), ...describe(img.closest('figure') || img)});
  }
  return {column: Math.round(colRight - colLeft), mathCount: mathEls.length,
          containers: document.querySelectorAll('mjx-container').length, untypeset, merrors, rawTex,
          minText, small: small.slice(0, 20), smallCount: small.length, overflow, scrolled, figures};
}"""

_DARK = """() => {
  const rgba = c => c.match(/[\\d.]+/g).map(Number);
  const lum = m => (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255;
  // the page background: body's, else html's, else the browser's white
  let bg = [255, 255, 255];
  for (const el of [document.body, document.documentElement]) {
    const m = rgba(getComputedStyle(el).backgroundColor);
    if (m.length < 4 || m[3] > 0) { bg = m; break; }
  }
  return {theme: document.documentElement.dataset.theme || '',
          bg: lum(bg),
          fg: lum(rgba(getComputedStyle(document.querySelector('article') || document.body).color))};
}"""

_EXPLORERS = """() => Array.from(document.querySelectorAll('.cl-explorer')).map(ex => ({
  id: ex.id, frames: Number(ex.dataset.frames), src: ex.querySelector('img').src,
  value: ex.querySelector('input').value, label: ex.querySelector('output').textContent,
  bytes: ex.outerHTML.length}))"""

_EXPLORER_STATE = """(id) => { const ex = document.getElementById(id), img = ex.querySelector('img');
  return {src: img.src, complete: img.complete, natural: img.naturalWidth,
          value: ex.querySelector('input').value, label: ex.querySelector('output').textContent}; }"""


def _visit(browser, html, rel, shots):
    """Open one page and measure everything; returns the page's report."""
    url = (html / rel).as_uri()
    rep = {"page": rel, "external": [], "console": [], "solutions": [], "explorers": []}
    ctx = browser.new_context(viewport=VIEWPORT)
    # nothing may leave file://: record and abort any http(s) request
    ctx.route(re.compile(r"^(https?|wss?|ftp)://"),
              lambda route: (rep["external"].append(route.request.url), route.abort()))
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(120_000)  # long pages on a loaded machine
    page.on("console", lambda m: rep["console"].append(m.text[:300]) if m.type == "error" else None)
    page.on("pageerror", lambda e: rep["console"].append(f"uncaught: {e}"[:300]))
    try:
        page.goto(url, wait_until="load")
        page.evaluate(_WAIT)
        if rel in shots:
            page.screenshot(path=str(SCREENSHOT_DIR / (rel.replace("/", "_")[:-5] + ".png")))
        # solutions: hidden first, shown once the title is clicked
        sols = page.evaluate(_SOLUTIONS)
        for s in sols:
            before = s["visible"]
            try:
                page.locator(f'[data-test-solution="{s["i"]}"] .admonition-title').first.click()
            except Exception as exc:  # noqa: BLE001 - a title that cannot be clicked is a failure
                rep["console"].append(f"cannot click solution {s['id']!r}: {exc}"[:300])
            page.wait_for_timeout(50)
            after = page.evaluate(_SOLUTION_VISIBLE, s["i"])
            rep["solutions"].append({"id": s["id"], "hidden_before": not before, "shown_after": after})
        # with every solution open, measure maths, text, overflow and figures
        page.evaluate(_WAIT)
        rep.update(page.evaluate(_MEASURE, [MIN_SCALE, MIN_TEXT_PX]))
        for fig in rep["figures"]:
            dpi = None
            if fig["src"].startswith("file:"):
                dpi = _png_dpi(pathlib.Path(urllib.parse.unquote(urllib.parse.urlparse(fig["src"]).path)))
            fig["dpi"] = dpi or 110.0
            fig["text_px"] = round(fig["scale"] * fig["dpi"] / 72 * STYLE_FONT_PT, 1)
        # kernel-free explorers: move each slider with the keyboard, the image must change
        for ex in page.evaluate(_EXPLORERS):
            sel = f'#{ex["id"]} input[type="range"]'
            page.locator(f'#{ex["id"]}').scroll_into_view_if_needed()
            page.focus(sel)
            page.keyboard.press("End" if int(ex["value"]) < ex["frames"] - 1 else "Home")
            page.wait_for_timeout(50)
            moved = page.evaluate(_EXPLORER_STATE, ex["id"])
            page.keyboard.press("ArrowLeft" if moved["value"] != "0" else "ArrowRight")
            page.wait_for_timeout(50)
            step = page.evaluate(_EXPLORER_STATE, ex["id"])
            rep["explorers"].append({
                "id": ex["id"], "frames": ex["frames"], "bytes": ex["bytes"],
                "changed": moved["src"] != ex["src"] and moved["label"] != ex["label"],
                "stepped": step["src"] != moved["src"] and step["label"] != moved["label"],
                "decoded": moved["complete"] and moved["natural"] > 0 and step["natural"] > 0})
            if rel in shots:
                page.locator(f'#{ex["id"]}').screenshot(
                    path=str(SCREENSHOT_DIR / f'{ex["id"]}.png'))
        # dark mode: the theme switch cycles light -> dark -> auto
        page.evaluate("() => window.scrollTo(0, 0)")
        light = page.evaluate(_DARK)
        button = page.locator(".theme-switch-button:visible").first
        dark = dict(light)
        if button.count():
            for _ in range(3):
                button.click()
                page.wait_for_timeout(50)
                dark = page.evaluate(_DARK)
                if dark["theme"] == "dark":
                    break
        rep["dark"] = {"light": light, "dark": dark, "button": bool(button.count())}
        if rel in shots and rel == SCREENSHOT_PAGES[1]:
            page.screenshot(path=str(SCREENSHOT_DIR / "02_gaussian_dark.png"))
    finally:
        ctx.close()
    return rep


@pytest.fixture(scope="module")
def browser_report(book_html):
    exe = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -r requirements.txt "
                    "(it pins playwright; its wheel carries the driver)", pytrace=False)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pages = _pages(book_html)
    assert "intro.html" in pages, pages
    reports, errors = {}, {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu",
                                                                "--disable-dev-shm-usage"])
        try:
            for rel in pages:
                try:
                    reports[rel] = _visit(browser, book_html, rel, SCREENSHOT_PAGES)
                except Exception as exc:  # noqa: BLE001 - one broken page must not hide the others
                    errors[rel] = f"{type(exc).__name__}: {exc}"[:500]
            # the narrow (phone) view of a chapter, for a human to look at
            ctx = browser.new_context(viewport=MOBILE)
            ctx.route(re.compile(r"^https?://"), lambda route: route.abort())
            page = ctx.new_page()
            page.goto((book_html / SCREENSHOT_PAGES[1]).as_uri(), wait_until="load")
            page.evaluate(_WAIT)
            page.screenshot(path=str(SCREENSHOT_DIR / "02_gaussian_mobile.png"))
            ctx.close()
        finally:
            browser.close()
    seconds = time.perf_counter() - start
    REPORT.write_text(json.dumps({"seconds": round(seconds, 1), "summary": _summary(reports),
                                  "errors": errors, "pages": reports}, indent=1))
    if errors:
        pytest.fail("the browser could not measure: " + "; ".join(f"{p}: {e}" for p, e in errors.items()),
                    pytrace=False)
    return reports


def _summary(reports) -> dict:
    figs = [f for r in reports.values() for f in r["figures"]]
    return {
        "pages": len(reports),
        "figures": len(figs),
        "figures_below_scale": sum(f["scale"] < MIN_SCALE for f in figs),
        "figure_text_below_px": sum(f["text_px"] < MIN_TEXT_PX for f in figs),
        "overflowing_elements": sum(len(r["overflow"]) for r in reports.values()),
        "scrolling_math_or_tables": sum(s["kind"] in ("math", "table") for r in reports.values()
                                        for s in r["scrolled"]),
        "scrolling_code": sum(s["kind"] == "code" for r in reports.values() for s in r["scrolled"]),
        "raw_tex": sum(len(r["rawTex"]) for r in reports.values()),
        "untypeset_math": sum(len(r["untypeset"]) + len(r["merrors"]) for r in reports.values()),
        "small_text": sum(r["smallCount"] for r in reports.values()),
        "console_errors": sum(len(r["console"]) for r in reports.values()),
        "external_requests": sum(len(r["external"]) for r in reports.values()),
        "solutions": sum(len(r["solutions"]) for r in reports.values()),
        "solutions_failing": sum(not (s["hidden_before"] and s["shown_after"])
                                 for r in reports.values() for s in r["solutions"]),
        "explorers": [dict(page=r["page"], **e) for r in reports.values() for e in r["explorers"]],
    }


def _fail_if(problems: dict, what: str):
    problems = {page: items for page, items in problems.items() if items}
    if problems:
        lines = [f"{what}: {sum(len(v) for v in problems.values())} on {len(problems)} page(s)"]
        for page, items in problems.items():
            lines.append(f"  {page}:")
            lines.extend(f"    {item}" for item in items[:8])
            if len(items) > 8:
                lines.append(f"    ... and {len(items) - 8} more")
        pytest.fail("\n".join(lines), pytrace=False)


# --- the checks -------------------------------------------------------------------------------
def test_every_page_visited(browser_report, book_html):
    pages = set(browser_report)
    for ch in chapter_paths():
        assert f"chapters/{ch.stem}.html" in pages
    assert {"references.html", "search.html"} <= pages


def test_maths_rendered_no_raw_tex(browser_report):
    _fail_if({p: [f"not typeset: {m}" for m in r["untypeset"]] + [f"MathJax error: {m}" for m in r["merrors"]]
              + [f"raw TeX {t['match']!r} in: {t['context']}" for t in r["rawTex"]]
              for p, r in browser_report.items()}, "maths not rendered")
    # the chapters do have maths, and MathJax typeset it
    assert browser_report["chapters/02_gaussian.html"]["containers"] > 50


def test_no_request_leaves_file_url(browser_report):
    _fail_if({p: r["external"] for p, r in browser_report.items()}, "requests leaving file://")


def test_no_console_errors(browser_report):
    _fail_if({p: r["console"] for p, r in browser_report.items()}, "console errors")


def test_nothing_wider_than_the_column(browser_report):
    _fail_if({p: [f"{o['kind']} {o['el']} in #{o['section']}: {o['width']} px in a {o['column']} px "
                  f"column{' (clipped)' if o['clipped'] else ''}: {o['text']}" for o in r["overflow"]]
              for p, r in browser_report.items()}, "elements wider than the content column")


def test_equations_and_tables_fit_without_scrolling(browser_report):
    _fail_if({p: [f"{s['kind']} {s['el']} in #{s['section']}: {s['width']} px in a {s['box']} px box: "
                  f"{s['text']}" for s in r["scrolled"] if s["kind"] in ("math", "table")]
              for p, r in browser_report.items()}, "equations or tables needing a horizontal scroll")


def test_figures_shown_at_natural_size(browser_report):
    _fail_if({p: [f"{f['el']} in #{f['section']}: {f['shown']:.0f} of {f['natural']} px = "
                  f"{f['scale']:.2f}x: {f['text'][:50]}" for f in r["figures"] if f["scale"] < MIN_SCALE]
              for p, r in browser_report.items()}, f"figures shown below {MIN_SCALE} of their natural width")


def test_text_legible(browser_report):
    _fail_if({p: [f"{s['px']} px {s['el']}: {s['text']}" for s in r["small"]]
              + [f"figure {f['el']} in #{f['section']}: {STYLE_FONT_PT:g}-pt text at {f['text_px']} px"
                 for f in r["figures"] if f["text_px"] < MIN_TEXT_PX]
              for p, r in browser_report.items()}, f"text below {MIN_TEXT_PX:g} px on screen")


def test_solutions_hidden_until_clicked(browser_report):
    _fail_if({p: [f"{s['id']}: hidden before click {s['hidden_before']}, shown after {s['shown_after']}"
                  for s in r["solutions"] if not (s["hidden_before"] and s["shown_after"])]
              for p, r in browser_report.items()}, "solutions not toggled by a click")
    assert sum(len(r["solutions"]) for r in browser_report.values()) >= len(chapter_paths())


def test_dark_mode_toggle(browser_report):
    problems = {}
    for p, r in browser_report.items():
        d = r["dark"]
        if p == "search.html" and not d["button"]:
            continue
        if not (d["button"] and d["dark"]["theme"] == "dark" and d["dark"]["bg"] < 0.25
                and d["dark"]["fg"] > 0.6 and d["light"]["bg"] > 0.75):
            problems[p] = [str(d)]
    _fail_if(problems, "dark-mode switch")


def test_kernel_free_explorers_respond(browser_report):
    problems = {}
    for ch in chapter_paths():
        page = f"chapters/{ch.stem}.html"
        exs = browser_report[page]["explorers"]
        if "loop_explorer(" in ch.read_text() and not exs:
            problems[page] = ["has a live loop_explorer but no kernel-free explorer"]
    for p, r in browser_report.items():
        bad = [str(e) for e in r["explorers"] if not (e["changed"] and e["stepped"] and e["decoded"])]
        if bad:
            problems.setdefault(p, []).extend(bad)
    _fail_if(problems, "kernel-free explorers")
    assert sum(len(r["explorers"]) for r in browser_report.values()) >= 1


def test_screenshots_saved(browser_report):
    shots = sorted(p.name for p in SCREENSHOT_DIR.glob("*.png"))
    for rel in SCREENSHOT_PAGES:
        assert rel.replace("/", "_")[:-5] + ".png" in shots, shots
    assert "02_gaussian_mobile.png" in shots and "02_gaussian_dark.png" in shots

#!/usr/bin/env bash
# Build a PDF of the whole book (every chapter executed, solutions included as in the HTML) into
# _build/latex/book.pdf, with pdflatex (Jupyter Book's default xelatex route needs bbm.sty, a
# large font package).  Needs Debian's texlive-latex-extra latexmk texlive-fonts-recommended
# tex-gyre: installed here when missing and run as root with apt-get, otherwise named.
# Chapters execute through jupyter-cache (_build/.jupyter_cache/pdf-*, keyed on lib/ and the pins):
# a second run reuses them.  BOOK_TIMEOUT=seconds raises the per-cell timeout of _config.yml.
# Extra arguments go to `jupyter-book build`.
set -euo pipefail
cd "$(dirname "$0")/.."

LATEX_PACKAGES="texlive-latex-extra latexmk texlive-fonts-recommended tex-gyre"
missing=""
for pkg in $LATEX_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ] || ! command -v pdflatex >/dev/null || ! command -v latexmk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the LaTeX packages the PDF needs:${missing:- $LATEX_PACKAGES}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $LATEX_PACKAGES >/dev/null
  else
    echo "The PDF needs these Debian packages:${missing:- $LATEX_PACKAGES}" >&2
    echo "  sudo apt-get install --no-install-recommends $LATEX_PACKAGES" >&2
    exit 1
  fi
fi

bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
cfg=$(mktemp --suffix=.yml)
trap 'rm -f "$cfg"' EXIT
.venv/bin/python - "$cfg" <<'PY'
"""The book's _config.yml plus what LaTeX needs: MathJax's macros and a few Unicode characters."""
import os, sys, unicodedata, yaml, pathlib

cfg = yaml.safe_load(open("_config.yml"))
sphinx = cfg.setdefault("sphinx", {})
# the temporary config lives elsewhere: local extension paths must not be relative to it
local = sphinx.get("local_extensions") or {}
sphinx["local_extensions"] = {k: os.path.abspath(v) for k, v in local.items()}
sphinx_cfg = sphinx.setdefault("config", {})

lines = [r"\usepackage{amsmath,amssymb}"]
# the same macros as the HTML (mathjax3_config), defined once, in _config.yml
macros = sphinx_cfg.get("mathjax3_config", {}).get("tex", {}).get("macros", {})
for name, body in macros.items():
    nargs = 0
    if isinstance(body, list):
        body, nargs = body[0], int(body[1])
    args = f"[{nargs}]" if nargs else ""
    lines.append(rf"\providecommand{{\{name}}}{{}}\renewcommand{{\{name}}}{args}{{{body}}}")

# pdflatex reads UTF-8 but knows no Greek or maths symbols in text: map the ones the sources use
SYMBOLS = {"×": r"\times", "≈": r"\approx", "≤": r"\leq", "≥": r"\geq", "±": r"\pm",
           "≠": r"\neq", "→": r"\to", "∞": r"\infty", "·": r"\cdot", "√": r"\surd",
           "∑": r"\sum", "∈": r"\in", "−": "-", "′": r"\prime", "★": r"\bigstar",
           "☆": r"\star"}
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
text = "".join(p.read_text(errors="ignore") for pattern in
               ("chapters/*.md", "appendix/*.md", "instructors/*.md", "*.md", "references.bib",
                "lib/**/*.py", "_ext/*.py")
               for p in pathlib.Path(".").glob(pattern))
for ch in sorted({c for c in text if ord(c) > 127}):
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK SMALL LETTER ") or name.startswith("GREEK CAPITAL LETTER "):
        letter = name.split()[-1].lower().replace("lamda", "lambda")
        if name.startswith("GREEK CAPITAL"):
            letter = letter.capitalize()
        tex = rf"\ensuremath{{\{letter}}}"
    elif ch in SYMBOLS:
        tex = rf"\ensuremath{{{SYMBOLS[ch]}}}"
    elif ch in SUPERSCRIPTS or ch in "²³¹":
        tex = rf"\textsuperscript{{{unicodedata.digit(ch)}}}"
    elif ch == "†":
        tex = r"\dag{}"
    elif unicodedata.category(ch) in ("So", "Sm"):
        tex = rf"{{\ttfamily U+{ord(ch):04X}}}"   # any other symbol: its code point, not a crash
    else:
        continue  # accented Latin letters and dashes: inputenc knows them
    lines.append(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{{tex}}}")

latex = sphinx_cfg.setdefault("latex_elements", {})
latex["preamble"] = "\n".join(lines) + "\n" + latex.get("preamble", "")
latex.setdefault("papersize", "a4paper")
latex.setdefault("figure_align", "H")
latex.setdefault("sphinxsetup", "VerbatimColor={rgb}{0.96,0.96,0.96}")
cfg.setdefault("latex", {}).update({"latex_engine": "pdflatex", "use_jupyterbook_latex": False})
cfg["latex"].setdefault("latex_documents", {}).setdefault("targetname", "book.tex")

# execute through jupyter-cache, keyed on the library and the pins as well as on the notebooks
# (jupyter-cache itself sees only the code cells), so a rerun after a LaTeX problem is quick
# and a change in lib/ or requirements.txt still re-executes every chapter
import hashlib
digest = hashlib.sha256()
for path in sorted(pathlib.Path("lib").rglob("*.py")) + [pathlib.Path("lib/pyproject.toml"),
                                                       pathlib.Path("requirements.txt")]:
    digest.update(path.as_posix().encode() + path.read_bytes())
execute = cfg.setdefault("execute", {})
execute["execute_notebooks"] = "cache"
execute["cache"] = os.path.abspath(f"_build/.jupyter_cache/pdf-{digest.hexdigest()[:16]}")
if os.environ.get("BOOK_TIMEOUT"):  # seconds per cell, e.g. on a loaded machine
    execute["timeout"] = int(os.environ["BOOK_TIMEOUT"])
yaml.safe_dump(cfg, open(sys.argv[1], "w"), sort_keys=False)
PY
start=$(date +%s)
.venv/bin/jupyter-book build . --config "$cfg" --builder pdflatex -n --keep-going "$@"
pdf=_build/latex/book.pdf
test -s "$pdf"
echo "PDF built in $(( $(date +%s) - start )) s: $(pwd)/$pdf"

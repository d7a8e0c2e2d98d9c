"""Chapter 15 (the summary): its cross-references, its proposition and its headline numbers.

* every {prf:ref}, {doc}, {numref} and {ref} target used in chapters/15_summary.md exists in
  the book's chapters;
* {prf:ref}`prop-15-equal-cost` (mix against accumulate-mix at equal real-data cost, Gaussian
  mean with known variance) against chapter 7's closed forms and against simulation, with both
  samplers;
* the numbers the summary glues equal the library's theory functions and, where one exists,
  an independent closed form.
"""
from __future__ import annotations

import math
import re

import jupytext
import nbformat
import numpy as np
import papermill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapselab as cl
import collapselab.phase as PH
from collapselab.compare import target_cost
from collapselab.models.categorical import zipf_probs
from collapselab.models.contaminated import KnownVarianceGaussian1D
from collapselab.theory import categorical as CAT
from collapselab.theory import contamination as C
from collapselab.theory import contraction as CT
from collapselab.theory import curation as CUR
from collapselab.theory import error_types as ET
from collapselab.theory import gaussian as G
from collapselab.theory import kde as KDE
from collapselab.theory import mixture as MIX
from collapselab.theory import monitoring as MON
from collapselab.theory import regression as REG

from conftest import CHAPTER_DIR, chapter_paths, front_matter

SUMMARY = CHAPTER_DIR / "15_summary.md"


# ------------------------------------------------------------------------------------------
# cross-references
# ------------------------------------------------------------------------------------------
def _targets(text: str, role: str) -> set[str]:
    """Targets of a MyST role, in either `target` or `text <target>` form."""
    out = set()
    for body in re.findall(r"\{" + re.escape(role) + r"\}`([^`]+)`", text):
        m = re.search(r"<([^>]+)>\s*$", body)
        out.add((m.group(1) if m else body).strip())
    return out


def _labels(text: str) -> set[str]:
    labels = set(re.findall(r"^:label: (\S+)", text, re.M))              # prf, exercises
    labels |= set(re.findall(r"^\s*name: (fig-\S+)", text, re.M))          # figures
    labels |= set(re.findall(r"^\((\S+)\)=\s*$", text, re.M))              # section targets
    return labels


def _all_labels() -> dict[str, str]:
    where = {}
    for path in chapter_paths():
        for label in _labels(path.read_text()):
            where[label] = path.stem
    return where


def test_summary_exists_with_front_matter():
    meta = front_matter(SUMMARY)
    assert set(meta["ci_parameters"]) <= {"n", "replicates", "generations", "sim_n"}


def test_every_prf_ref_target_exists_in_the_chapters():
    text = SUMMARY.read_text()
    where = _all_labels()
    refs = _targets(text, "prf:ref")
    assert len(refs) >= 40, "the summary should link its claims to the book's results"
    missing = sorted(r for r in refs if r not in where)
    assert not missing, f"{{prf:ref}} targets not defined in any chapter: {missing}"
    # every chapter that states results is linked from the map
    linked = {where[r][:2] for r in refs}
    for path in chapter_paths():
        if path.stem != SUMMARY.stem and re.search(r"\{prf:(theorem|proposition)\}", path.read_text()):
            assert path.stem[:2] in linked, f"no result of {path.name} is linked from the summary"


def test_every_doc_numref_and_ref_target_exists():
    text = SUMMARY.read_text()
    docs = _targets(text, "doc")
    assert docs, "the summary should link the chapters with {doc}"
    for target in docs:
        assert (CHAPTER_DIR / f"{target}.md").exists(), f"{{doc}} target {target} does not exist"
    where = _all_labels()
    for role in ("numref", "ref"):
        for target in _targets(text, role):
            assert target in where, f"{{{role}}} target {target} does not exist"


def test_labels_referenced_by_the_summary_are_unique_across_chapters():
    seen = {}
    for path in chapter_paths():
        for label in _labels(path.read_text()):
            assert label not in seen, f"{label} defined in {seen[label]} and {path.stem}"
            seen[label] = path.stem


# ------------------------------------------------------------------------------------------
# the proposition against chapter 7's closed forms
# ------------------------------------------------------------------------------------------
def _errors(n, a, t):
    return (C.mix_known_variance_error(1.0, n, a, t),
            C.accumulate_mix_known_variance_error(1.0, n, a, t))


@pytest.mark.parametrize("n", [2, 5, 20, 100])
def test_accumulating_never_hurts_closed_form(n):
    t = np.arange(0, 301)
    for alpha in np.linspace(0.0, 1.0, 41):
        e_mix, e_acc = _errors(n, alpha, t)
        np.testing.assert_allclose(e_acc[:2], e_mix[:2], rtol=1e-12, atol=0)
        assert np.all(e_acc[2:] < e_mix[2:]), (n, alpha)
        # same real data spent by both schedules, B_t = n + (t - 1) m
        m = C.real_points(n, alpha)
        for tt in (1, 7, 300):
            assert cl.mix(alpha).real_data_used(tt, n) == n + (tt - 1) * m
            assert cl.accumulate_mix(alpha).real_data_used(tt, n) == n + (tt - 1) * m


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 400), alpha=st.floats(0.0, 1.0), t=st.integers(2, 400))
def test_accumulating_never_hurts_property(n, alpha, t):
    e_mix, e_acc = _errors(n, alpha, np.arange(t + 1))
    assert np.all(e_acc[2:] < e_mix[2:])
    assert np.all(np.diff(e_mix) >= -1e-15)            # mix rises to its limit
    a = C.realised_fraction(n, alpha)
    if a > 0:
        assert e_mix[-1] <= C.mix_limit_factor(a) / n * (1 + 1e-12)


def test_limits_of_the_proposition():
    n, T = 50, 20_000
    # a = 0: replace grows like t, accumulate increases to pi^2/6
    e_mix, e_acc = _errors(n, 0.0, np.array([10, 100, T]))
    np.testing.assert_allclose(e_mix, np.array([10, 100, T]) / n)
    assert np.all(np.diff(e_acc) > 0)
    assert e_acc[-1] < math.pi**2 / 6 / n
    assert e_acc[-1] > (math.pi**2 / 6 - 1.0 / (T - 1)) / n     # tail of sum 1/s^2 < 1/(T-1)
    np.testing.assert_allclose(G.accumulate_mean_bound(1.0, n), math.pi**2 / 6 / n)
    # a > 0: mix tends to F(a) sigma^2 / n, accumulate-mix to zero
    for alpha in (0.1, 0.5, 0.8):
        e_mix, e_acc = _errors(n, alpha, np.array([T // 100, T // 10, T]))
        a = C.realised_fraction(n, alpha)
        np.testing.assert_allclose(e_mix[-1], 1.0 / (n * a * (2 - a)), rtol=1e-9)
        # e_acc decays like t^(-2 min(1/2, a)) (times log t at a = 1/2): a factor 100 in t
        # divides it by at least 100^(2 min(1/2, a)) / (1 + log 100) > 2 here
        assert np.all(np.diff(e_acc) < 0)
        assert e_acc[-1] < 0.5 * e_acc[0]


@pytest.mark.parametrize("alpha", [0.6, 0.75, 0.9, 1.0])
def test_price_at_equal_cost_model_limited(alpha):
    n, T = 20, 20_000
    B = cl.accumulate_mix(alpha).real_data_used(T, n)
    price_acc = B * C.accumulate_mix_known_variance_error(1.0, n, alpha, T)
    a = C.realised_fraction(n, alpha)
    limit = a / (2 * a - 1)
    # the limit is approached like t^(1 - 2a) (thm-07-crt-gauss): the relative gap stays below
    # T^(1 - 2a), e.g. 0.11 < 0.14 at a = 0.6 and 0.0033 < 0.0071 at a = 0.75
    assert abs(price_acc / limit - 1) < T ** (1 - 2 * a)
    price_mix = B * C.mix_known_variance_error(1.0, n, alpha, T)
    np.testing.assert_allclose(price_mix, (1 + (T - 1) * a) / (a * (2 - a)), rtol=1e-9)
    assert price_mix > 1000 * price_acc


@pytest.mark.parametrize("alpha", [0.1, 0.25, 0.5])
def test_price_at_equal_cost_data_limited_grows(alpha):
    n = 20
    prices = [cl.accumulate_mix(alpha).real_data_used(T, n)
              * C.accumulate_mix_known_variance_error(1.0, n, alpha, T) for T in (100, 1000, 10_000)]
    assert prices[0] < prices[1] < prices[2]


# ------------------------------------------------------------------------------------------
# the proposition against simulation, both samplers
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.75])
def test_proposition_against_simulation(alpha, exact):
    n, T = 20, 25
    R = 6000 if exact else 2500
    model = KnownVarianceGaussian1D(var=1.0)
    truth = model.params(0.0)
    t = np.arange(T + 1)
    sims = {}
    for i, (name, sched) in enumerate([("mix", cl.mix(alpha)), ("acc", cl.accumulate_mix(alpha))]):
        run = cl.run_loop(model, truth, n=n, generations=T, replicates=R, schedule=sched,
                          exact=exact, seed=np.random.SeedSequence([15, int(100 * alpha), i, int(exact)]))
        sq = run["mean"][1:] ** 2
        f = C.mix_known_variance_error if name == "mix" else C.accumulate_mix_known_variance_error
        expected = f(1.0, n, alpha, t[1:])
        se = sq.std(axis=1, ddof=1) / np.sqrt(R)
        z = np.abs(sq.mean(axis=1) - expected) / se
        assert z.max() < 5.0, (name, alpha, exact, float(z.max()))
        sims[name] = sq
    # accumulating is better at the end, by many standard errors
    diff = sims["mix"][-1].mean() - sims["acc"][-1].mean()
    se = np.sqrt(sims["mix"][-1].var(ddof=1) / R + sims["acc"][-1].var(ddof=1) / R)
    assert diff > 5 * se


# ------------------------------------------------------------------------------------------
# the glued numbers equal the library's theory (the chapter at its CI parameters)
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def glued(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("summary")
    src = tmp / "15_summary.ipynb"
    jupytext.write(jupytext.read(SUMMARY), src)
    out = tmp / "out.ipynb"
    papermill.execute_notebook(str(src), str(out), parameters=front_matter(SUMMARY)["ci_parameters"],
                               cwd=str(CHAPTER_DIR), kernel_name="python3", progress_bar=False,
                               log_output=False)
    nb = nbformat.read(str(out), as_version=4)
    values = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                text = o["data"].get("application/papermill.record/text/plain")
                try:
                    values[name] = float(text)
                except (TypeError, ValueError):
                    values[name] = text
    return values


def test_every_glued_key_in_the_prose_is_computed(glued):
    used = set(re.findall(r"\{glue:text\}`(ch15_\w+)", SUMMARY.read_text()))
    assert used, "the summary should glue its numbers"
    assert used <= set(glued), f"glued in prose but never computed: {sorted(used - set(glued))}"
    for key in used:
        assert isinstance(glued[key], float) and math.isfinite(glued[key]), key


def test_glued_numbers_match_independent_closed_forms(glued):
    n = int(glued["ch15_n"])
    assert glued["ch15_pi2_6"] == pytest.approx(math.pi**2 / 6, rel=1e-12)
    for a in (0.1, 0.25, 0.5, 0.75):
        assert glued[f"ch15_F_{round(100 * a):03d}"] == pytest.approx(1 / (a * (2 - a)), rel=1e-12)
    assert glued["ch15_crt_const_big"] == pytest.approx(1 / (2 * 0.75 - 1))
    assert glued["ch15_crt_exp_small"] == pytest.approx(min(0.5, 0.1))
    assert glued["ch15_alpha_C"] == pytest.approx(1 - math.sqrt(1 - 1 / 2.0), rel=1e-12)
    kappa = (1 - 0.1) * 1.05
    assert glued["ch15_kappa"] == pytest.approx(kappa)
    assert glued["ch15_ct_limit"] == pytest.approx(1 / (1 - kappa))
    assert glued["ch15_L_max_small"] == pytest.approx(1 / 0.9)
    assert glued["ch15_naive_alarm"] == pytest.approx(1 - 0.95**50, rel=1e-9)
    assert glued["ch15_rare_loss1"] == pytest.approx((1 - 1 / n) ** n)
    assert glued["ch15_rare_acc"] == pytest.approx(1 - (1 - 1 / n) ** n)
    assert glued["ch15_rare_mix_floor"] == pytest.approx(1 - (1 - 1 / n) ** round(0.1 * n))
    assert glued["ch15_reg_replace"] == pytest.approx(glued["ch15_t"])
    assert glued["ch15_reg_acc"] < math.pi**2 / 6
    assert glued["ch15_kde_neutral"] == pytest.approx(1 / math.sqrt(n))
    assert glued["ch15_kde_H"] == pytest.approx(sum(1 / s for s in range(1, int(glued["ch15_t"]) + 1)))
    assert glued["ch15_mix_w_acc"] <= math.pi**2 / 6
    x = math.pi / math.sqrt(n)
    assert glued["ch15_mix_w_acc"] == pytest.approx(n * (1 - math.sin(x) / x))
    c = (n - 1) / n
    assert glued["ch15_tau_c"] == pytest.approx(1 / math.sqrt(0.5 * c))
    assert glued["ch15_tau_exact"] < glued["ch15_tau_c"]
    assert glued["ch15_alpha_tau15"] == pytest.approx(1 - 1 / (1.5**2 * c))
    assert glued["ch15_half_mle"] == pytest.approx(math.log(2) / -G.log_variance_drift(n, 0))
    a2 = 2 / n
    assert glued["ch15_shrink_fixed2"] == pytest.approx(1 / (n * a2 * (2 - a2)))
    assert glued["ch15_share_mix"] == pytest.approx(glued["ch15_alpha_C"])
    assert glued["ch15_share_inject"] == pytest.approx(0.5)
    v = glued["ch15_trunc"]
    assert 0 < v < 1
    assert glued["ch15_cur_mix"] == pytest.approx(0.1 / (1 - 0.9 * v))
    # chapter 11: top-k fixed point and symmetry breaking, from a Zipf truth computed here
    K, k = int(glued["ch15_K_zipf"]), int(glued["ch15_top_k"])
    zipf = np.arange(1, K + 1) ** -1.1
    zipf /= zipf.sum()
    kept = zipf[:k].sum()
    assert glued["ch15_topk_tv_replace"] == pytest.approx(1 - kept, rel=1e-9)
    assert glued["ch15_topk_tv"] == pytest.approx((1 - 0.1) * (1 - kept), rel=1e-9)
    assert glued["ch15_tau_break"] == pytest.approx(1 - 0.1)
    assert glued["ch15_nucleus_support"] < 1 / (1 - glued["ch15_top_p"])


def test_glued_numbers_equal_the_library(glued):
    n, t = int(glued["ch15_n"]), int(glued["ch15_t"])
    p = 1 / n
    library = {
        "ch15_half_mle": G.half_life(n, 0),
        "ch15_half_unb": G.half_life(n, 1),
        "ch15_pi2_6": G.accumulate_mean_bound(1.0, n) * n,
        "ch15_acc_var": G.accumulate_variance_limit(1.0, n),
        "ch15_rare_alive": CAT.survival_probability(p, n, t)[-1],
        "ch15_rare_branch": CAT.survival_probability_branching(p, n, t)[-1],
        "ch15_rare_acc": CAT.survival_probability_accumulate(p, n, t)[-1],
        "ch15_rare_mix": CAT.survival_probability_mix(p, n, 0.1, t)[-1],
        "ch15_reg_acc": REG.accumulate_limit(1.0, 5, 20) / REG.ols_risk(1.0, 5, 20),
        "ch15_kde_neutral": KDE.neutral_bandwidth(1.0, n),
        "ch15_mix_w_acc": MIX.weight_variance_limit(0.5, n, accumulate=True) * n / 0.25,
        "ch15_tau_c": CT.critical_tau(0.5, n),
        "ch15_tau_exact": CT.exact_critical_tau(0.5, n),
        "ch15_alpha_tau15": CT.critical_alpha(1.5, n),
        "ch15_ct_limit": CT.contraction_limit(1.0, CT.contraction_factor(0.1, 1.05)),
        "ch15_share_mix": target_cost(2.0, "mix"),
        "ch15_share_inject": target_cost(2.0, "inject"),
        "ch15_alpha_C": PH.known_variance_boundary(2.0),
        "ch15_naive_alarm": MON.run_alarm_probability(0.05, 1, 50),
        "ch15_trunc": CUR.truncated_variance_factor(0.9),
        "ch15_cur_mix": CUR.mix_stationary_variance_limit(1.0, 0.1, keep=0.9),
        "ch15_nucleus_support": ET.nucleus_limit(zipf_probs(100, 1.1), 0.9)["support"],
        "ch15_topk_tv": ET.top_k_mix_fixed_point(zipf_probs(100, 1.1), 0.1, 10)["tv"],
        "ch15_tau_break": ET.uniform_critical_tau(0.1),
    }
    for key, value in library.items():
        assert glued[key] == pytest.approx(float(value), rel=1e-12), key
    # the long-horizon price of the proposition, computed in the chapter
    T_long = int(glued["ch15_T_long"])
    B = cl.accumulate_mix(0.75).real_data_used(T_long, n)
    assert glued["ch15_price_acc_big"] == pytest.approx(
        B * C.accumulate_mix_known_variance_error(1.0, n, 0.75, T_long), rel=1e-12)
    assert glued["ch15_price_acc_big_limit"] == pytest.approx(1.5)
    # the simulation check inside the chapter held
    assert glued["ch15_zmax"] < 5.5
    assert glued["ch15_sim_acc_big"] < glued["ch15_sim_mix_big"]

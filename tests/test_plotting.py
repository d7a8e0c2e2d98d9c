"""The book's presentation helpers: numbers for prose."""
import pytest

from collapselab.plotting import prose_number


@pytest.mark.parametrize("x, digits, text", [
    (4.97e6, 3, "4,970,000"), (8.99e-05, 3, "0.0000899"), (2.9e-06, 2, "0.0000029"),
    (9.96, 2, "10"), (123.4, 2, "120"), (0.5, 2, "0.50"), (-0.0123, 2, "-0.012"), (0, 3, "0"),
])
def test_prose_number_is_plain_and_rounded(x, digits, text):
    out = prose_number(x, digits)
    assert out == text and "e" not in out
    assert float(out.replace(",", "")) == pytest.approx(x, rel=0.5 * 10 ** (1 - digits))


@pytest.mark.parametrize("kwargs, name", [({"x": float("nan")}, "x"), ({"x": "abc"}, "x"),
                                          ({"x": 1.0, "digits": 0}, "digits")])
def test_prose_number_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        prose_number(**kwargs)

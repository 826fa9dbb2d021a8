"""Comparisons (issue 6): every number checked against statsmodels/scipy or by hand.

Fixed tables (successes1, trials1, successes2, trials2) used throughout:

- 60/100 vs 50/100 and 720/1200 vs 600/1200: the issue's 60% against 50%, on few
  and on many calls;
- 7/12 vs 5/12: a dozen test calls;
- 1/4 vs 3/5, 0/10 vs 4/10, 10/10 vs 0/3: expected counts under 5 (Fisher's test).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

from malakai_analytics import stats

TABLES = [(60, 100, 50, 100), (720, 1200, 600, 1200), (7, 12, 5, 12),
          (1, 4, 3, 5), (0, 10, 4, 10), (10, 10, 0, 3)]
SMALL = [(1, 4, 3, 5), (0, 10, 4, 10), (10, 10, 0, 3)]


# --- stats: the pure helpers ----------------------------------------------------------

@pytest.mark.parametrize("table", TABLES, ids=str)
def test_newcombe_matches_statsmodels(table):
    expected = confint_proportions_2indep(*table, method="newcomb", compare="diff")
    assert stats.newcombe_interval(*table) == pytest.approx(expected, abs=1e-12)
    expected90 = confint_proportions_2indep(*table, method="newcomb", alpha=0.1)
    assert stats.newcombe_interval(*table, confidence=0.9) == pytest.approx(expected90,
                                                                           abs=1e-12)


def test_newcombe_vectorised_and_empty_side():
    k1, n1, k2, n2 = (np.array(column) for column in zip(*TABLES))
    low, high = stats.newcombe_interval(k1, n1, k2, n2)
    for i, table in enumerate(TABLES):
        assert (low[i], high[i]) == pytest.approx(stats.newcombe_interval(*table))
    assert np.isnan(stats.newcombe_interval(1, 2, 0, 0)).all()


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_z_test_matches_statsmodels_and_chi_square(table):
    k1, n1, k2, n2 = table
    z, p = stats.two_proportion_z_test(*table)
    expected_z, expected_p = proportions_ztest([k1, k2], [n1, n2])
    assert (z, p) == pytest.approx((expected_z, expected_p), rel=1e-12)
    chi2 = scipy_stats.chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)
    assert z**2 == pytest.approx(chi2.statistic) and p == pytest.approx(chi2.pvalue)


def test_z_test_hand_computed_and_degenerate():
    # 60/100 vs 50/100: pooled 0.55, se = sqrt(0.55 * 0.45 * 0.02) = 0.070356
    z, p = stats.two_proportion_z_test(60, 100, 50, 100)
    assert z == pytest.approx(0.1 / np.sqrt(0.55 * 0.45 * 0.02))
    assert p == pytest.approx(0.155218, abs=1e-6)
    assert np.isnan(stats.two_proportion_z_test(3, 3, 5, 5)).all()  # no variance


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_fisher_matches_scipy(table):
    k1, n1, k2, n2 = table
    expected = scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    assert stats.fisher_exact_test(*table) == pytest.approx(expected, rel=1e-12)


def test_fisher_hand_computed():
    # 1/4 vs 3/5: a = successes in group 1 given the margins (4 successes of 9);
    # P(a) = C(4,a) C(5,4-a) / C(9,4): a=0 5, a=1 40, a=2 60, a=3 20, a=4 1 (of 126).
    # Tables no more likely than the observed a=1: a = 0, 1, 3, 4.
    assert stats.fisher_exact_test(1, 4, 3, 5) == pytest.approx((5 + 40 + 20 + 1) / 126)


@pytest.mark.parametrize("table, expected", [
    ((60, 100, 50, 100), 45.0), ((7, 12, 5, 12), 6.0), ((1, 4, 3, 5), 16 / 9),
    ((0, 10, 4, 10), 2.0), ((10, 10, 0, 3), 9 / 13)])
def test_min_expected_count(table, expected):
    assert stats.min_expected_count(*table) == pytest.approx(expected)


def test_compare_proportions_picks_fisher_under_five():
    k1, n1, k2, n2 = (np.array(column) for column in zip(*TABLES))
    result = stats.compare_proportions(k1, n1, k2, n2)
    assert result["test"].tolist() == ["z", "z", "z", "fisher", "fisher", "fisher"]
    for i, table in enumerate(TABLES):
        expected = (stats.fisher_exact_test(*table) if table in SMALL
                    else stats.two_proportion_z_test(*table)[1])
        assert result["p_value"][i] == pytest.approx(expected)
        assert result["diff"][i] == pytest.approx(table[0] / table[1] - table[2] / table[3])


@pytest.mark.parametrize("p", [
    [0.01, 0.04, 0.03, 0.2, 0.005],
    [0.5, 0.5, 0.001, 0.049],
    [0.9, 0.02, 0.03, 0.04, 0.045, 0.0001, 0.3],
])
def test_holm_matches_statsmodels(p):
    assert stats.holm_adjust(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_holm_hand_computed_and_nan():
    # sorted 0.005, 0.01, 0.03 (x3, x2, x1) -> 0.015, 0.02, 0.03; NaN stays out.
    adjusted = stats.holm_adjust([0.03, np.nan, 0.005, 0.01])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.03, 0.015, 0.02])
    assert np.isnan(adjusted[1])
    assert stats.holm_adjust([0.6, 0.7]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert stats.holm_adjust([]).size == 0


@pytest.mark.parametrize("rates", [(0.5, 0.6), (0.55, 0.7), (0.25, 0.55), (0.1, 0.05)],
                         ids=str)
@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_sample_size_matches_statsmodels(rates, ratio):
    base, other = rates
    pooled = stats.sample_size_two_proportions(other, base, 0.8, 0.05, ratio=ratio)
    assert pooled == pytest.approx(samplesize_proportions_2indep_onetail(
        other - base, base, 0.8, ratio=ratio, alpha=0.05), rel=1e-12)
    arcsine = stats.sample_size_two_proportions(other, base, 0.8, 0.05, ratio=ratio,
                                                method="arcsine")
    assert arcsine == pytest.approx(NormalIndPower().solve_power(
        proportion_effectsize(other, base), alpha=0.05, power=0.8, ratio=ratio), rel=1e-6)


def test_sample_size_hand_computed_and_errors():
    # 50% vs 60%: (1.959964 sqrt(2 * .55 * .45) + 0.841621 sqrt(.25 + .24))^2 / 0.01
    z_a, z_b = 1.959963985, 0.841621234
    by_hand = (z_a * np.sqrt(2 * 0.55 * 0.45) + z_b * np.sqrt(0.25 + 0.24)) ** 2 / 0.01
    assert stats.sample_size_two_proportions(0.5, 0.6) == pytest.approx(by_hand, rel=1e-8)
    with pytest.raises(ValueError, match="equal"):
        stats.sample_size_two_proportions(0.5, 0.5)
    with pytest.raises(ValueError, match="rate1"):
        stats.sample_size_two_proportions(0.0, 0.5)
    with pytest.raises(ValueError, match="method"):
        stats.sample_size_two_proportions(0.4, 0.5, method="exact")


def test_p_chart_limits_hand_computed():
    lcl, ucl = stats.p_chart_limits(0.5, np.array([25, 100, 0]))
    assert lcl[:2] == pytest.approx([0.5 - 3 * 0.1, 0.5 - 3 * 0.05])
    assert ucl[:2] == pytest.approx([0.8, 0.65])
    assert np.isnan(lcl[2]) and np.isnan(ucl[2])
    assert stats.p_chart_limits(0.1, 4) == pytest.approx((0.0, 0.55))  # clipped at 0

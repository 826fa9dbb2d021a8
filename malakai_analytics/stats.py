"""Intervals and tests for rates and differences.

Kept free of pandas frames: functions take counts (scalars or numpy arrays) and
return numbers, so metrics and comparisons share one implementation.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal quantile for a confidence level (1.959964 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes, trials, confidence: float = 0.95):
    """Wilson score interval of a binomial proportion.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is honest for small
    samples and rates near 0 or 1: 0 of 1 gives [0, 0.7934].

    Args:
        successes: count(s) of successes.
        trials: count(s) of trials; where 0 the interval is NaN.
        confidence: two-sided level.

    Returns:
        (low, high) as floats or float arrays, NaN where `trials` is 0.
    """
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # Exact bounds at the edges (floating error would leave 1e-17 instead of 0).
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


# --- comparing two proportions -------------------------------------------------------
#
# Every function below takes counts as scalars or numpy arrays (broadcast together) and
# returns floats or float arrays, NaN where a side has no trials. scipy.stats is
# imported inside the functions that need it, so importing the package stays quick.


def _counts(*values):
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in values))
    return [np.array(a) for a in arrays]


def _scalar_or_array(value):
    value = np.asarray(value, dtype="float64")
    return float(value) if value.ndim == 0 else value


def newcombe_interval(successes1, trials1, successes2, trials2, confidence: float = 0.95):
    """Newcombe's hybrid score interval of the difference p1 - p2 of two proportions.

    Method 10 of Newcombe (1998): combines the Wilson interval of each proportion, so it
    stays within [-1, 1], is never empty, and behaves well for small counts and rates
    near 0 or 1. Same values as statsmodels'
    `confint_proportions_2indep(..., method="newcomb", compare="diff")`.

    Args:
        successes1, trials1: counts of the first group.
        successes2, trials2: counts of the second group.
        confidence: two-sided level.

    Returns:
        (low, high) as floats or float arrays; NaN where either side has no trials.
    """
    k1, n1, k2, n2 = _counts(successes1, trials1, successes2, trials2)
    low1, high1 = (np.asarray(v) for v in wilson_interval(k1, n1, confidence))
    low2, high2 = (np.asarray(v) for v in wilson_interval(k2, n2, confidence))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    diff = p1 - p2
    low = diff - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = diff + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    valid = (n1 > 0) & (n2 > 0)
    low = np.where(valid, np.clip(low, -1.0, 1.0), np.nan)
    high = np.where(valid, np.clip(high, -1.0, 1.0), np.nan)
    return _scalar_or_array(low), _scalar_or_array(high)


def min_expected_count(successes1, trials1, successes2, trials2):
    """Smallest expected cell count of the 2x2 table under independence.

    The table is (successes, failures) x (group 1, group 2); a cell's expected count is
    row total x column total / grand total. Below 5, normal approximations are poor.

    Returns:
        Float or float array; NaN where either side has no trials.
    """
    k1, n1, k2, n2 = _counts(successes1, trials1, successes2, trials2)
    total = n1 + n2
    successes = k1 + k2
    with np.errstate(divide="ignore", invalid="ignore"):
        smaller_row = np.minimum(successes, total - successes)
        expected = smaller_row * np.minimum(n1, n2) / total
    expected = np.where((n1 > 0) & (n2 > 0), expected, np.nan)
    return _scalar_or_array(expected)


def two_proportion_z_test(successes1, trials1, successes2, trials2):
    """Two-sided z test of p1 == p2 with the pooled variance (no continuity correction).

    The same test as statsmodels' `proportions_ztest` on two samples (its default
    `prop_var=False`) and as the Pearson chi-square test of the 2x2 table without
    correction (z squared is the chi-square statistic).

    Returns:
        (z, p_value) as floats or float arrays; NaN where either side has no trials or
        every outcome is the same (the pooled variance is 0).
    """
    from scipy.special import ndtr

    k1, n1, k2, n2 = _counts(successes1, trials1, successes2, trials2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
    z = np.where((n1 > 0) & (n2 > 0) & (se > 0), z, np.nan)
    p = 2 * ndtr(-np.abs(z))
    return _scalar_or_array(z), _scalar_or_array(p)


def fisher_exact_test(successes1, trials1, successes2, trials2):
    """Two-sided Fisher exact test of the 2x2 table, with `scipy.stats.fisher_exact`.

    Returns:
        p_value as a float or float array; NaN where either side has no trials.
    """
    from scipy.stats import fisher_exact

    k1, n1, k2, n2 = _counts(successes1, trials1, successes2, trials2)
    p = np.full(k1.shape, np.nan)
    for index in np.ndindex(k1.shape):  # scipy tests one table per call
        if n1[index] > 0 and n2[index] > 0:
            table = [[k1[index], n1[index] - k1[index]], [k2[index], n2[index] - k2[index]]]
            p[index] = fisher_exact(np.asarray(table, dtype="int64"),
                                    alternative="two-sided").pvalue
    return _scalar_or_array(p)


def compare_proportions(successes1, trials1, successes2, trials2, confidence: float = 0.95,
                        *, min_expected: float = 5.0):
    """Difference of two proportions: estimate, Newcombe interval and a two-sided test.

    The test is Fisher's exact test where the smallest expected count of the 2x2 table
    is under `min_expected`, else the pooled two-proportion z test.

    Returns:
        dict of arrays: diff (p1 - p2), low, high, p_value and test ("fisher", "z", or
        "" where either side has no trials).
    """
    k1, n1, k2, n2 = _counts(successes1, trials1, successes2, trials2)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where((n1 > 0) & (n2 > 0), k1 / n1 - k2 / n2, np.nan)
    low, high = newcombe_interval(k1, n1, k2, n2, confidence)
    expected = np.asarray(min_expected_count(k1, n1, k2, n2))
    exact = expected < min_expected
    _, p_z = two_proportion_z_test(k1, n1, k2, n2)
    p = np.where(exact, np.nan, np.asarray(p_z))
    if exact.any():
        p[exact] = np.asarray(fisher_exact_test(k1[exact], n1[exact], k2[exact], n2[exact]))
    test = np.where(np.isnan(expected), "", np.where(exact, "fisher", "z"))
    return {"diff": diff, "low": np.asarray(low), "high": np.asarray(high),
            "p_value": p, "test": test}


def holm_adjust(p_values):
    """Holm's step-down adjustment of p-values for multiple comparisons.

    Controls the family-wise error rate like Bonferroni but is uniformly more powerful.
    NaN p-values are left out of the family and stay NaN. Same values as statsmodels'
    `multipletests(p, method="holm")[1]`.

    Args:
        p_values: array-like of p-values.

    Returns:
        Float array of adjusted p-values, in the input order.
    """
    p = np.asarray(p_values, dtype="float64")
    adjusted = np.full(p.shape, np.nan)
    known = ~np.isnan(p)
    values = p[known]
    m = values.size
    if m == 0:
        return adjusted
    order = np.argsort(values, kind="stable")
    scaled = (m - np.arange(m)) * values[order]
    stepped = np.minimum(np.maximum.accumulate(scaled), 1.0)
    result = np.empty(m)
    result[order] = stepped
    adjusted[known] = result
    return adjusted


# --- planning -----------------------------------------------------------------------


def sample_size_two_proportions(rate1: float, rate2: float, power: float = 0.8,
                                alpha: float = 0.05, *, ratio: float = 1.0,
                                method: str = "pooled") -> float:
    """Trials needed in group 1 for a two-sided test of rate1 vs rate2 to reach `power`.

    Two formulas (group 2 gets `ratio` times as many trials):

    - "pooled": the normal approximation of the pooled two-proportion z test,
      n1 = (z_(1-alpha/2) sd0 + z_power sd1)^2 / (rate1 - rate2)^2 with
      sd0^2 = p(1-p)(1 + 1/ratio) at the pooled rate p and
      sd1^2 = rate1(1-rate1) + rate2(1-rate2)/ratio. Same as statsmodels'
      `samplesize_proportions_2indep_onetail(rate1 - rate2, rate2, power, ratio, alpha)`.
    - "arcsine": Cohen's h = 2 asin(sqrt(rate1)) - 2 asin(sqrt(rate2)) with the normal
      power of a two-sided test (both rejection regions counted), solved for n1. Same as
      statsmodels' `NormalIndPower().solve_power(proportion_effectsize(rate1, rate2),
      alpha=alpha, power=power, ratio=ratio)`.

    Returns:
        n1 as a float (round up to get whole trials).

    Raises:
        ValueError: a rate outside (0, 1), equal rates, or power/alpha outside (0, 1).
    """
    for name, value in (("rate1", rate1), ("rate2", rate2), ("power", power),
                        ("alpha", alpha)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value!r}")
    if rate1 == rate2:
        raise ValueError("rate1 and rate2 are equal: no sample size detects no difference")
    if not ratio > 0:
        raise ValueError(f"ratio must be positive, got {ratio!r}")
    dist = NormalDist()
    z_alpha = dist.inv_cdf(1 - alpha / 2)
    z_power = dist.inv_cdf(power)
    if method == "pooled":
        pooled = (rate1 + ratio * rate2) / (1 + ratio)
        sd_null = np.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
        sd_alt = np.sqrt(rate1 * (1 - rate1) + rate2 * (1 - rate2) / ratio)
        return float(((z_alpha * sd_null + z_power * sd_alt) / (rate1 - rate2)) ** 2)
    if method == "arcsine":
        from scipy.optimize import brentq

        h = abs(2 * np.arcsin(np.sqrt(rate1)) - 2 * np.arcsin(np.sqrt(rate2)))

        def shortfall(n1: float) -> float:
            shift = h * np.sqrt(n1 * ratio / (1 + ratio))
            return dist.cdf(shift - z_alpha) + dist.cdf(-shift - z_alpha) - power

        if not power > alpha:
            raise ValueError(f"power must exceed alpha, got power={power!r}, alpha={alpha!r}")
        one_tail = ((z_alpha + z_power) / h) ** 2 * (1 + ratio) / ratio  # an upper bound
        return float(brentq(shortfall, 1e-12, one_tail, xtol=1e-10))
    raise ValueError(f"method must be 'pooled' or 'arcsine', got {method!r}")


# --- control charts -----------------------------------------------------------------


def p_chart_limits(center, trials, sigma: float = 3.0):
    """Lower and upper limits of a p-chart point: center -/+ sigma sqrt(p(1-p)/n).

    Args:
        center: the baseline proportion (p-bar).
        trials: trials in each period.
        sigma: width of the limits in standard errors (3 is Shewhart's choice).

    Returns:
        (lcl, ucl) clipped to [0, 1]; NaN where trials is 0 or the center is NaN.
    """
    p, n = _counts(center, trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = sigma * np.sqrt(p * (1 - p) / n)
    lcl = np.where(n > 0, np.clip(p - half, 0.0, 1.0), np.nan)
    ucl = np.where(n > 0, np.clip(p + half, 0.0, 1.0), np.nan)
    return _scalar_or_array(lcl), _scalar_or_array(ucl)

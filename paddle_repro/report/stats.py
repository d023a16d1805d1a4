"""Seed statistics for a with-vs-without table: mean +- std, the delta, and whether it is noise.

Rule used to flag a delta (stated in every table that has several seeds): the delta of the
means is *within the seed-to-seed spread* when ``|delta| < max(std_with, std_without)``
(sample standard deviations, ddof=1). Welch's t-test (unequal variances, Welch-Satterthwaite
degrees of freedom, two-sided p-value) is reported beside it, computed here with the
regularized incomplete beta function so the suite needs no SciPy.
"""
import math


def mean_std(values):
    """Mean and sample standard deviation (ddof=1) of the non-None values.

    Returns:
        (mean, std, n): std is None when n < 2; mean is None when n == 0.
    """
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if n == 0:
        return None, None, 0
    mean = sum(xs) / n
    if n < 2:
        return mean, None, n
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)), n


def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (modified Lentz method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b) for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1.0 - x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t, df):
    """Two-sided p-value of Student's t with ``df`` (real) degrees of freedom."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def welch(a, b):
    """Welch's t-test of mean(a) - mean(b).

    Returns:
        dict(t, df, p) or None when either side has fewer than 2 values or both have
        zero variance.
    """
    ma, sa, na = mean_std(a)
    mb, sb, nb = mean_std(b)
    if sa is None or sb is None:
        return None
    va, vb = sa * sa / na, sb * sb / nb
    if va + vb == 0.0:
        return None
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    return {"t": t, "df": df, "p": t_two_sided_p(t, df)}


def compare(with_values, without_values):
    """The delta row entry of one column.

    Args:
        with_values: the column's value per seed for the ``with`` run.
        without_values: the same for a ``without`` run.

    Returns:
        dict(delta, spread, within_spread, welch): delta of the means (None if a side is
        empty); spread = max of the two sample stds (None with one seed per side);
        within_spread = |delta| < spread (None when spread is None); welch as :func:`welch`.
    """
    mw, sw, _ = mean_std(with_values)
    mo, so, _ = mean_std(without_values)
    delta = None if mw is None or mo is None else mw - mo
    stds = [s for s in (sw, so) if s is not None]
    spread = max(stds) if len(stds) == 2 else None
    within = None if spread is None or delta is None else abs(delta) < spread
    return {"delta": delta, "spread": spread, "within_spread": within,
            "welch": welch(with_values, without_values)}

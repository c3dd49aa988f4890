"""Group-sequential boundaries by alpha spending, so that a test read every day keeps its error rate.

The z statistic at a look is a Brownian motion W at information time s (the look's information over
the planned information), scaled: Z = W(s) / sqrt(s), with W(s) ~ N(drift * s, s). Looks share the
path, so they are correlated; the boundary at look k is the value that makes the probability of
crossing *first* at look k equal to what this look may spend, ``spending(s_k) - (spent before)``.
That probability needs the density of W at the previous look over the paths that never crossed,
which is carried from look to look by numerical integration (Armitage, McPherson & Rowe 1969;
Jennison & Turnbull 2000, ch. 19).

The density is held on a grid as Simpson's panels (the quadratic through each three points); its
convolution with the Gaussian increment of W, and the probability of crossing, are integrated in
closed form. That stays accurate however small the step between two looks is (quadrature with the
Gaussian kernel sampled on the grid would not) and, unlike a piecewise-linear density, does not
widen the path a little at every look.

Everything here is one-sided, upward: "crossed" means Z >= boundary. Boundaries depend only on the
information fractions and the earlier boundaries, never on the data, so a caller that stores the
(fraction, boundary) of every look it analysed can compute the next boundary in any process.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

# 121 points (60 panels) over about ten standard deviations put the boundaries within 1e-4 of
# their converged values (checked against 641 points and published O'Brien-Fleming boundaries).
GRID_POINTS = 121
# The grid's lower end, in standard deviations below the path's mean: the mass below is < 1e-15.
TAIL_SDS = 8.0

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def upper_tail(z: float) -> float:
    """P(N(0, 1) >= z)."""
    return float(ndtr(-z))


def upper_quantile(p: float) -> float:
    """The z with P(N(0, 1) >= z) = p."""
    return float(-ndtri(p))


def obrien_fleming_spending(fraction: float, alpha: float) -> float:
    """Lan-DeMets O'Brien-Fleming-type spending: alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)).

    It spends almost nothing early (at t = 0.25 under 1e-4 of a 0.05 budget) and most of alpha
    near t = 1, so the last look is barely stricter than a single fixed-horizon test. A test that
    overruns its plan (t > 1) spends no more than alpha.
    """
    if fraction <= 0.0:
        return 0.0
    return 2.0 * upper_tail(upper_quantile(alpha / 2.0) / math.sqrt(min(fraction, 1.0)))


def _phi(x):
    return np.exp(-0.5 * x * x) / _SQRT_2PI


def _steps(values: np.ndarray) -> np.ndarray:
    """Differences along the last axis (np.diff without its per-call overhead)."""
    return values[..., 1:] - values[..., :-1]


@dataclass(frozen=True)
class _Survivors:
    """Sub-density of W(time) over the paths that have not crossed yet, as a polynomial per panel:
    density(v) = p0 + p1 v + p2 v^2 between edges[i] and edges[i + 1]."""

    time: float
    spent: float  # probability of having crossed at an earlier look
    edges: np.ndarray | None = None  # None at the start: all paths at 0 at time 0
    coefficients: np.ndarray | None = None  # shape (3, panels): p0, p1, p2

    @classmethod
    def on_grid(cls, time: float, spent: float, grid: np.ndarray, density: np.ndarray) -> "_Survivors":
        half = grid[1] - grid[0]
        mid = grid[1:-1:2]
        left, centre, right = density[:-2:2], density[1:-1:2], density[2::2]
        q1 = (right - left) / (2.0 * half)
        q2 = (right - 2.0 * centre + left) / (2.0 * half * half)
        # q0 + q1 (v - mid) + q2 (v - mid)^2, expanded in powers of v.
        coefficients = np.array([centre - q1 * mid + q2 * mid * mid, q1 - 2.0 * q2 * mid, q2])
        return cls(time, spent, grid[::2], coefficients)


_START = _Survivors(time=0.0, spent=0.0)


def _gaussian_moments(survivors: _Survivors, y: np.ndarray, pdf: np.ndarray, cdf: np.ndarray,
                      centre, sd: float):
    """Integral of the surviving density against phi(y) dy, with v = centre + sd y, y given at
    the panel edges: sum over panels of p0 M0 + p1 M1 + p2 M2, where M0 = [Phi(y)],
    M1 = centre M0 - sd [phi(y)] and M2 = centre^2 M0 - 2 centre sd [phi(y)] + sd^2 (M0 - [y phi(y)]),
    [f] being f(upper edge) - f(lower edge). Works on one centre or on a column of them."""
    d_cdf, d_pdf, d_ypdf = _steps(cdf), _steps(pdf), _steps(y * pdf)
    p0, p1, p2 = survivors.coefficients
    m0 = d_cdf @ survivors.coefficients.T  # (..., 3): M0 against p0, p1, p2
    pdf_p1, pdf_p2, ypdf_p2 = d_pdf @ p1, d_pdf @ p2, d_ypdf @ p2
    return (m0[..., 0] + centre * m0[..., 1] - sd * pdf_p1
            + centre * centre * m0[..., 2] - 2.0 * centre * sd * pdf_p2 + sd * sd * (m0[..., 2] - ypdf_p2))


def _density_at(survivors: _Survivors, points: np.ndarray, time: float, drift: float) -> np.ndarray:
    """Density of W(time) at `points`, over the paths that survived every earlier look."""
    step = time - survivors.time
    sd = math.sqrt(step)
    centre = points - drift * step  # where the increment's Gaussian, seen from v, is centred
    if survivors.time == 0.0:
        return _phi(centre / sd) / sd
    y = (survivors.edges[None, :] - centre[:, None]) / sd
    return _gaussian_moments(survivors, y, _phi(y), ndtr(y), centre, sd)


def _crossing_and_density(survivors: _Survivors, time: float, level: float, drift: float) -> tuple[float, float]:
    """Probability of surviving every earlier look and then having W(time) >= level, and the
    density of W(time) at level over the survivors (minus the probability's derivative)."""
    step = time - survivors.time
    sd = math.sqrt(step)
    origin = level - drift * step  # a path at v crosses with probability Phi((v - origin) / sd)
    if survivors.time == 0.0:
        return upper_tail(origin / sd), float(_phi(origin / sd) / sd)
    # v = origin + sd y; the antiderivatives of Phi, y Phi and y^2 Phi are G0 = y Phi + phi,
    # G1 = ((y^2 - 1) Phi + y phi) / 2 and G2 = (y^3 Phi + (y^2 + 2) phi) / 3.
    y = (survivors.edges - origin) / sd
    cdf, pdf, y2 = ndtr(y), _phi(y), y * y
    g0 = _steps(y * cdf + pdf)
    g1 = _steps((y2 - 1.0) * cdf + y * pdf) / 2.0
    g2 = _steps(y2 * y * cdf + (y2 + 2.0) * pdf) / 3.0
    p0, p1, p2 = survivors.coefficients
    moments = (p0 @ g0 + p1 @ (origin * g0 + sd * g1)
               + p2 @ (origin * origin * g0 + 2.0 * origin * sd * g1 + sd * sd * g2))
    return max(float(sd * moments), 0.0), float(_gaussian_moments(survivors, y, pdf, cdf, origin, sd))


def _crossing_probability(survivors: _Survivors, time: float, level: float, drift: float) -> float:
    return _crossing_and_density(survivors, time, level, drift)[0]


def _next_survivors(survivors: _Survivors, time: float, level: float, drift: float) -> _Survivors:
    crossed = _crossing_probability(survivors, time, level, drift)
    spread = TAIL_SDS * math.sqrt(time)
    top = min(level, drift * time + spread)
    grid = np.linspace(min(drift * time, top) - spread, top, GRID_POINTS)
    return _Survivors.on_grid(time, survivors.spent + crossed, grid, _density_at(survivors, grid, time, drift))


@lru_cache(maxsize=4096)
def _survivors_after(looks: tuple[tuple[float, float], ...], drift: float) -> _Survivors:
    """The surviving sub-density after `looks` ((information time, W-scale level), ...).

    Cached by the whole history, so a test looked at daily costs one integration step per look
    rather than one per earlier look.
    """
    if not looks:
        return _START
    time, level = looks[-1]
    return _next_survivors(_survivors_after(looks[:-1], drift), time, level, drift)


def _history(prior: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Earlier (fraction, z boundary) pairs as (time, W-scale level); infinite boundaries spent nothing."""
    previous = 0.0
    looks = []
    for fraction, boundary in prior:
        if not fraction > previous:
            raise ValueError(f"information fractions of earlier looks must increase, got {fraction} after {previous}")
        previous = fraction
        if math.isfinite(boundary):
            looks.append((float(fraction), float(boundary) * math.sqrt(fraction)))
    return tuple(looks)


@dataclass(frozen=True)
class Boundary:
    z: float  # promote when the look's z >= this; math.inf when nothing is left to spend
    alpha_spent_before: float  # what earlier looks spent, recomputed from their boundaries
    alpha_spent: float  # cumulative, including this look: spending(fraction)

    @property
    def alpha_this_look(self) -> float:
        return self.alpha_spent - self.alpha_spent_before

    @property
    def nominal_alpha(self) -> float:
        """The fixed-sample one-sided p-value at which this look's boundary lies."""
        return upper_tail(self.z)


def _level_spending(survivors: _Survivors, time: float, budget: float) -> float:
    """The W-scale level whose crossing probability at `time` is `budget`."""
    sd = math.sqrt(time)
    if survivors.time == 0.0:
        return upper_quantile(budget) * sd
    # Newton's method on log P, which is concave in the level (the surviving density is
    # log-concave), so it converges from either side. It starts at the previous look's level:
    # O'Brien-Fleming-type levels on the W scale are nearly constant, so that is close.
    level = float(survivors.edges[-1])
    for _ in range(30):
        crossing, density = _crossing_and_density(survivors, time, level, 0.0)
        if not (crossing > 0.0 and density > 0.0):
            break  # out of the survivors' reach (a tiny step between looks): bracket instead
        step = (math.log(crossing) - math.log(budget)) * crossing / density
        level += step
        if abs(step) < 1e-9 * sd:
            return float(level)
    top = float(survivors.edges[-1])
    return brentq(lambda x: _crossing_probability(survivors, time, x, 0.0) - budget,
                  top - 12.0 * sd, top + 12.0 * sd, xtol=1e-12)


def upper_boundary(prior: Sequence[tuple[float, float]], fraction: float, alpha: float, final: bool = False) -> Boundary:
    """The z boundary at information `fraction`, given the (fraction, boundary) of earlier looks.

    What earlier looks really spent is recomputed from their boundaries, so rounding in what a
    caller stored is made good at this look and the total never exceeds ``alpha``. The ``final``
    look of a test (its maximum duration reached short of the planned information) spends all
    that is left of ``alpha``: the spending function only needs to be fixed before the data are
    seen, and a calendar limit is.
    """
    if prior and not fraction > prior[-1][0]:
        raise ValueError(f"information fraction {fraction} does not exceed the previous look's {prior[-1][0]}")
    return _boundary(_history(prior), float(fraction), float(alpha), final)


@lru_cache(maxsize=4096)
def _boundary(looks: tuple[tuple[float, float], ...], fraction: float, alpha: float, final: bool) -> Boundary:
    """Cached, so a look evaluated again (a retried task, an on-demand evaluation beside the
    scheduled one, simulated tests sharing a schedule) costs nothing."""
    survivors = _survivors_after(looks, 0.0)
    target = alpha if final else obrien_fleming_spending(fraction, alpha)
    budget = target - survivors.spent
    if budget <= 1e-12:
        return Boundary(math.inf, survivors.spent, survivors.spent)
    return Boundary(_level_spending(survivors, fraction, budget) / math.sqrt(fraction), survivors.spent, target)


def boundaries(fractions: Sequence[float], alpha: float) -> list[float]:
    """The z boundaries of a whole schedule of looks."""
    prior: list[tuple[float, float]] = []
    for fraction in fractions:
        prior.append((fraction, upper_boundary(prior, fraction, alpha).z))
    return [z for _, z in prior]


def crossing_probability(fractions: Sequence[float], z_boundaries: Sequence[float], drift: float) -> float:
    """Probability that Z crosses its boundary at some look when E[Z at fraction 1] = drift."""
    return _survivors_after(_history(list(zip(fractions, z_boundaries))), drift).spent


@lru_cache(maxsize=64)
def sample_size_inflation(alpha: float, fixed_power: float, design_power: float, looks: int) -> float:
    """How much more information than a fixed-horizon test of power `fixed_power` a design with
    `looks` equally spaced looks needs to reach `design_power` (each look's boundary sits a
    little above the fixed one, which costs power)."""
    fractions = [k / looks for k in range(1, looks + 1)]
    z_boundaries = boundaries(fractions, alpha)
    fixed_drift = upper_quantile(alpha) + upper_quantile(1.0 - fixed_power)
    return brentq(lambda ratio: crossing_probability(fractions, z_boundaries, fixed_drift * math.sqrt(ratio))
                  - design_power, 0.5, 4.0, xtol=1e-6)

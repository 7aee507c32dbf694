"""Bounded Levenberg–Marquardt least squares for many small problems at once, in arrays.

Input: a model (a function giving the model values and Jacobian of every row), blocks of
padded data arrays of shape ``(m_b, L_b)`` (one row per problem, padding with weight 0; one
block per padded length), starting points and box bounds of shape ``(m, k)``. Output:
:class:`LMResult` — fitted parameters, χ², iteration count and a convergence flag per row.
No side effects.

Every row is its own problem and its arithmetic never mixes with another row's: each step is
elementwise or a sum along the row (``np.einsum`` over the last axis of C-contiguous rows:
numpy's own loops, whose order depends only on the row length ``L``), and the ``k × k``
normal equations are solved by a Cholesky factorisation written out for whole columns of
rows, not by BLAS/LAPACK (whose blocking and threads could vary). So a row's result depends
only on its own data, start and padded length — not on which other rows share the arrays,
nor on the machine's load: the stop rules are an iteration count and tolerances, never a
clock. Padded points carry weight 0 and finite values, so they add exact zeros.

The method (Moré 1978, with Marquardt's diagonal scaling): at each iteration solve
``(JᵀJ + λ diag(JᵀJ)) δ = −Jᵀr`` on the free parameters, clip ``x + δ`` to the box, keep it
if χ² decreased, updating ``λ`` by Nielsen's (1999) rule. A parameter at a bound whose gradient
points out of the box is held fixed for that step (a projected, active-set step). A row
stops when a well-predicted accepted step (actual over predicted decrease > 0.25) changes χ²
or every parameter by less than ``tol`` relatively (as ``scipy.optimize.least_squares``'
ftol and xtol), or when ``λ`` exceeds :data:`MAX_DAMPING` (no step
decreases χ²: a minimum at the working precision), or after ``max_iter`` iterations
(``converged`` False).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: Model: parameters (m, k), times (m, L), band indices (m, L) → values (m, L), Jacobian
#: (m, k, L).
Model = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

INITIAL_DAMPING = 1e-3
#: Damping beyond which no step can lower χ²: the row has reached its minimum.
MAX_DAMPING = 1e10
#: Floor of the scaling ``diag(JᵀJ)`` relative to its largest element in the row.
SCALE_FLOOR = 1e-12


@dataclass(frozen=True)
class LMData:
    """Padded data of ``m`` problems: times, band indices, values and weights ``1/σ``
    (0 on padding), each of shape ``(m, L)``."""

    t: np.ndarray
    band: np.ndarray
    y: np.ndarray
    w: np.ndarray

    def rows(self, idx: np.ndarray) -> LMData:
        return LMData(self.t[idx], self.band[idx], self.y[idx], self.w[idx])


@dataclass(frozen=True)
class LMResult:
    """Per row: parameters ``x`` (m, k), ``chi2``, ``iterations`` and ``converged``."""

    x: np.ndarray
    chi2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def _normal_equations(
    f: np.ndarray, jac: np.ndarray, data: LMData
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """χ² (m,), ``JᵀWJ`` (m, k, k) and ``JᵀWr`` (m, k) of weighted residuals."""
    r = (f - data.y) * data.w
    jw = jac * data.w[:, None, :]
    # einsum's own loops (no BLAS): each sum runs along one row, in an order fixed by L.
    a = np.einsum("mil,mjl->mij", jw, jw)
    g = np.einsum("mil,ml->mi", jw, r)
    return np.einsum("ml,ml->m", r, r), a, g


def solve_spd(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``a x = b`` for each row of symmetric positive-definite ``a`` (m, k, k) by a
    Cholesky factorisation written out over columns of rows (a fixed order of operations);
    ``ok`` is False where ``a`` is not positive definite."""
    k = b.shape[1]
    low: list[list[np.ndarray]] = [[] for _ in range(k)]
    ok = np.ones(len(b), dtype=bool)
    for j in range(k):
        d = a[:, j, j].copy()
        for c in range(j):
            d -= low[j][c] * low[j][c]
        ok &= d > 0
        diag = np.sqrt(np.where(d > 0, d, 1.0))
        low[j].append(diag)
        for i in range(j + 1, k):
            s = a[:, i, j].copy()
            for c in range(j):
                s -= low[i][c] * low[j][c]
            low[i].append(s / diag)
    z: list[np.ndarray] = []
    for i in range(k):
        s = b[:, i].copy()
        for c in range(i):
            s -= low[i][c] * z[c]
        z.append(s / low[i][i])
    x: list[np.ndarray] = [z[0]] * k
    for i in reversed(range(k)):
        s = z[i].copy()
        for c in range(i + 1, k):
            s -= low[c][i] * x[c]
        x[i] = s / low[i][i]
    return np.stack(x, axis=1), ok


def _step(
    a: np.ndarray, g: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, lam: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped step on the free parameters, the decrease of χ² it predicts, and ``ok``
    (False where the system is singular)."""
    k = x.shape[1]
    held = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
    diag = np.diagonal(a, axis1=1, axis2=2)
    scale = np.maximum(diag, SCALE_FLOOR * np.max(diag, axis=1, keepdims=True))
    eye = np.eye(k, dtype=bool)
    free2 = ~held[:, :, None] & ~held[:, None, :]
    damped = np.where(free2, a + np.where(eye, (lam[:, None] * scale)[:, :, None], 0.0), 0.0)
    damped = np.where(held[:, :, None] & eye, 1.0, damped)
    delta, ok = solve_spd(damped, np.where(held, 0.0, -g))
    delta = np.where(held, 0.0, delta)
    # χ²(x + δ) ≈ χ² + 2gᵀδ + δᵀAδ, and (A + λD)δ = −g on the free parameters.
    predicted = np.sum(delta * (lam[:, None] * scale * delta - g), axis=1)
    return delta, predicted, ok & np.all(np.isfinite(delta), axis=1)


def _evaluate(
    model: Model, x: np.ndarray, blocks: Sequence[LMData]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """χ², normal matrix and gradient of every row, block by block (rows in block order)."""
    out = []
    start = 0
    for block in blocks:
        n = len(block.t)
        f, jac = model(x[start : start + n], block.t, block.band)
        out.append(_normal_equations(f, jac, block))
        start += n
    chi2, a, g = zip(*out, strict=True)
    return np.concatenate(chi2), np.concatenate(a), np.concatenate(g)


def _keep(blocks: Sequence[LMData], keep: np.ndarray) -> list[LMData]:
    """The rows of ``blocks`` where ``keep`` (over all their rows in order) is True."""
    out, start = [], 0
    for block in blocks:
        n = len(block.t)
        rows = np.flatnonzero(keep[start : start + n])
        if len(rows):
            out.append(block.rows(rows))
        start += n
    return out


def levenberg_marquardt(
    model: Model,
    x0: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    blocks: Sequence[LMData],
    max_iter: int,
    tol: float,
) -> LMResult:
    """Fit every row of ``blocks`` (see the module docstring).

    Parameters
    ----------
    model
        Values and Jacobian of the model for a block of rows.
    x0, lo, hi
        Starting points and bounds, shape (m, k), rows in the order of the blocks' rows;
        ``x0`` is clipped into the box.
    blocks
        Padded data, each of shape (m_b, L_b) with ``sum(m_b) = m``: light curves of one
        padded length share a block; the per-row steps run on all blocks at once.
    max_iter
        Largest number of iterations (model evaluations after the first) per row.
    tol
        Relative change of χ² and of the parameters below which a row has converged.
    """
    m = len(x0)
    x = np.clip(x0, lo, hi)
    chi2, a, g = _evaluate(model, x, blocks)
    out_x, out_chi2 = x.copy(), chi2.copy()
    iterations = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)
    lam = np.full(m, INITIAL_DAMPING)
    nu = np.full(m, 2.0)
    # Rows still iterating, as indices into the batch; the arrays below hold only those.
    live_mask = np.isfinite(chi2)
    live = np.flatnonzero(live_mask)
    x, chi2, a, g, lam, nu = x[live], chi2[live], a[live], g[live], lam[live], nu[live]
    sub, sub_lo, sub_hi = _keep(blocks, live_mask), lo[live], hi[live]
    for it in range(1, max_iter + 1):
        if not len(live):
            break
        delta, predicted, ok = _step(a, g, x, sub_lo, sub_hi, lam)
        trial = np.clip(x + np.where(ok[:, None], delta, 0.0), sub_lo, sub_hi)
        chi2_t, a_t, g_t = _evaluate(model, trial, sub)
        better = ok & np.isfinite(chi2_t) & (chi2_t < chi2)
        # Nielsen's (1999) update: shrink λ by how well the step's decrease was predicted.
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (chi2 - chi2_t) / predicted
        shrink = np.maximum(1 / 3, 1 - (2 * np.clip(np.nan_to_num(rho), 0.0, 1.0) - 1) ** 3)
        # Converged: a well-predicted step (as scipy's least_squares asks) that changed
        # little.
        small = (rho > 0.25) & (
            (chi2 - chi2_t <= tol * chi2)
            | np.all(np.abs(trial - x) <= tol * (np.abs(x) + tol), axis=1)
        )
        lam = np.where(better, np.maximum(lam * shrink, 1e-12), lam * nu)
        nu = np.where(better, 2.0, nu * 2)
        x = np.where(better[:, None], trial, x)
        chi2 = np.where(better, chi2_t, chi2)
        a = np.where(better[:, None, None], a_t, a)
        g = np.where(better[:, None], g_t, g)
        done = (better & small) | (lam > MAX_DAMPING)
        stop = done | (it == max_iter)
        if np.any(stop):
            rows = live[stop]
            out_x[rows], out_chi2[rows] = x[stop], chi2[stop]
            iterations[rows] = it
            converged[rows] = done[stop]
            keep = ~stop
            live = live[keep]
            x, chi2, a, g, lam, nu = x[keep], chi2[keep], a[keep], g[keep], lam[keep], nu[keep]
            sub, sub_lo, sub_hi = _keep(sub, keep), sub_lo[keep], sub_hi[keep]
    return LMResult(out_x, out_chi2, iterations, converged)

"""The summary of a sweep: where the article's run falls among the seeds, or a grid's table.

:func:`summarize` takes the runs (a pandas table: ``seed``, the figures, the settings) and
returns plain numbers; :func:`summary_lines` words them for a terminal; :func:`save_plots`
draws them as PNG images with matplotlib's Agg canvas (no pyplot, no global backend).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..files.safefile import atomic_write

__all__ = ["percentile_of", "summarize", "summary_lines", "save_plots"]


def percentile_of(values, x: float) -> float:
    """Percentile rank of ``x`` among ``values``: the share below it, ties counted half.

    Parameters
    ----------
    values : array_like, (n,)
        ``inf`` is allowed (a run that never converged is slower than any that did).
    x : float

    Returns
    -------
    float
        In 0..100; NaN when there are no values.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return math.nan
    return float(100.0 * (np.sum(v < x) + 0.5 * np.sum(v == x)) / v.size)


def _share(mask) -> float:
    m = np.asarray(mask, dtype=bool)
    return float(100.0 * m.mean()) if m.size else math.nan


def _stats(values) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0}
    return {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}


def summarize(df, grid: list[str], *, article: dict | None = None) -> dict:
    """The sweep's figures.

    Parameters
    ----------
    df : pandas.DataFrame
        One row a run: ``seed``, ``iterations``, ``reason``, ``percent_correct``,
        ``argmax_accuracy``, ``test_error``, the settings.
    grid : list of str
        The settings the sweep varied (empty: seeds only).
    article : dict, optional
        The article's run, ``{"iterations": 13, "percent_correct": 92.57}``: compared
        with when the sweep is of seeds only, all in the article mode.

    Returns
    -------
    dict
        ``runs``; ``iterations`` (of the runs that converged: ``n``, ``mean``, ``sd``,
        ``min``, ``median``, ``max``, ``histogram`` {iterations: runs}, ``not_converged``);
        ``percent_correct``, ``argmax_accuracy``, ``test_error`` (``n``, ``mean``, ``sd``,
        ``min``, ``median``, ``max``); ``article`` (the shares of runs below, at and above
        its figures and their percentile ranks, and the share as fast and as good on both
        counts); with a grid, ``grid``: one dict a cell.
    """
    conv = (df["reason"] == "converged").to_numpy()
    its = df["iterations"].to_numpy(dtype=float)
    s = {"runs": int(len(df)), "seeds": int(df["seed"].nunique())}
    hist = {int(k): int(n) for k, n in sorted(df.loc[conv, "iterations"].value_counts().items())}
    s["iterations"] = {**_stats(its[conv]), "histogram": hist, "not_converged": int((~conv).sum())}
    for k in ("percent_correct", "argmax_accuracy", "test_error"):
        s[k] = _stats(df[k].to_numpy(dtype=float))
    if article and not grid and len(df) and (df["mode"] == "article").all():
        ai, ap = float(article["iterations"]), float(article["percent_correct"])
        slow = np.where(conv, its, np.inf)
        pc = df["percent_correct"].to_numpy(dtype=float)
        s["article"] = {
            "iterations": int(ai), "percent_correct": ap,
            "runs_fewer_iterations": _share(slow < ai), "runs_same_iterations": _share(slow == ai),
            "runs_more_iterations": _share(slow > ai),
            "iterations_percentile": percentile_of(slow, ai),
            "runs_below_percent_correct": _share(pc < ap), "runs_above_percent_correct": _share(pc > ap),
            "percent_correct_percentile": percentile_of(pc, ap),
            "runs_as_good_on_both": _share((slow <= ai) & (pc >= ap))}
    if grid:
        cells = []
        for values, g in df.groupby(grid, sort=True, dropna=False):
            values = values if isinstance(values, tuple) else (values,)
            gc = (g["reason"] == "converged").to_numpy()
            pc = g["percent_correct"].to_numpy(dtype=float)
            cells.append({**{k: (v.item() if hasattr(v, "item") else v) for k, v in zip(grid, values)},
                          "runs": int(len(g)), "percent_correct_mean": float(np.mean(pc)),
                          "percent_correct_sd": float(np.std(pc, ddof=1)) if len(pc) > 1 else 0.0,
                          "argmax_accuracy_mean": float(g["argmax_accuracy"].mean()),
                          "test_error_mean": float(g["test_error"].mean()),
                          "iterations_median": float(g["iterations"].median()),
                          "converged_share": _share(gc)})
        s["grid"] = cells
    return s


def summary_lines(s: dict) -> list[str]:
    """The summary in words, a line each."""
    if not s:
        return []
    lines = [f"summary of {s['runs']} run{'s' if s['runs'] != 1 else ''} ({s['seeds']} seed"
             f"{'s' if s['seeds'] != 1 else ''})"]
    it = s["iterations"]
    if it.get("n"):
        lines.append(f"  iterations to converge: min {it['min']:.0f}, median {it['median']:g}, max "
                     f"{it['max']:.0f} ({it['n']} converged, {it['not_converged']} did not)")
        lines.append("    " + ", ".join(f"{k}: {v}" for k, v in it["histogram"].items()))
    elif it["not_converged"]:
        lines.append(f"  no run converged ({it['not_converged']} ran to their last iteration)")
    for key, name, fmt in (("percent_correct", "percent correct", ".2f"),
                           ("argmax_accuracy", "arg-max accuracy", ".2f"),
                           ("test_error", "test error", ".5f")):
        v = s[key]
        if v.get("n"):
            lines.append(f"  {name}: mean {v['mean']:{fmt}}, sd {v['sd']:{fmt}}, min {v['min']:{fmt}}, "
                         f"max {v['max']:{fmt}}")
    a = s.get("article")
    if a:
        lines.append(f"  the article's run ({a['iterations']} iterations, i.e. converged at iteration "
                     f"{a['iterations'] - 1}): {a['runs_fewer_iterations']:.0f}% of runs converged in "
                     f"fewer, {a['runs_same_iterations']:.0f}% in as many, {a['runs_more_iterations']:.0f}% "
                     f"needed more (percentile {a['iterations_percentile']:.0f})")
        lines.append(f"  the article's {a['percent_correct']:.2f}% correct: {a['runs_below_percent_correct']:.0f}% "
                     f"of runs scored less, {a['runs_above_percent_correct']:.0f}% more (percentile "
                     f"{a['percent_correct_percentile']:.0f})")
        lines.append(f"  runs as fast and as good as the article's, both: {a['runs_as_good_on_both']:.0f}%")
    if s.get("grid"):
        names = [k for k in s["grid"][0] if k not in _CELL_FIGURES]
        head = "  " + "  ".join(f"{n:>12}" for n in names)
        lines.append(head + "   runs  % correct (sd)  arg-max %  test error  median iter  converged")
        for c in s["grid"]:
            lines.append("  " + "  ".join(f"{str(c[n]):>12}" for n in names)
                         + f"  {c['runs']:>5}  {c['percent_correct_mean']:6.2f} ({c['percent_correct_sd']:4.2f})"
                           f"     {c['argmax_accuracy_mean']:6.2f}     {c['test_error_mean']:.5f}"
                           f"  {c['iterations_median']:11g}  {c['converged_share']:8.0f}%")
    return lines


_CELL_FIGURES = ("runs", "percent_correct_mean", "percent_correct_sd", "argmax_accuracy_mean",
                 "test_error_mean", "iterations_median", "converged_share")


# ------------------------------------------------------------------------------------------
# Plots
# ------------------------------------------------------------------------------------------
def _save(fig, path: Path) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=110)
    return str(path)


def _describe(df) -> str:
    r = df.iloc[0]
    train = "all" if r.get("train") is None or (isinstance(r["train"], float) and math.isnan(r["train"])) \
        else f"{int(r['train']):,}"
    return f"{r['mode']} mode, {train} training images ({r['data_source']})"


def save_plots(df, grid: list[str], s: dict, prefix: str, *, article: dict | None = None) -> list[str]:
    """Draw the summary: ``PREFIX-seeds.png`` (seeds only) or ``PREFIX-grid.png``.

    Returns the paths written. Raises ImportError without matplotlib.
    """
    from matplotlib.figure import Figure
    prefix = Path(prefix)
    if grid:
        return [_grid_plot(Figure(figsize=(11, 4.2)), df, grid, prefix)]
    fig = Figure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    a = s.get("article")
    hist = s["iterations"]["histogram"]
    if hist:
        ks = np.arange(min(hist), max(hist) + 1)
        ax1.bar(ks, [hist.get(int(k), 0) for k in ks], color="#4a7ab5", width=0.8)
    nc = s["iterations"]["not_converged"]
    if nc:
        x = (max(hist) + 2) if hist else 0
        ax1.bar([x], [nc], color="#b0b0b0", width=0.8)
        ax1.annotate("did not\nconverge", (x, nc), ha="center", va="bottom", fontsize=8)
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
    if a:
        ax1.axvline(a["iterations"], color="#c0392b", lw=2)
        ax1.annotate(f"article: {a['iterations']}\n(percentile {a['iterations_percentile']:.0f})",
                     (a["iterations"], 0.97), xycoords=("data", "axes fraction"), ha="left", va="top",
                     color="#c0392b", fontsize=9, xytext=(4, 0), textcoords="offset points", bbox=box)
        lo, hi = ax1.get_xlim()
        ax1.set_xlim(min(lo, a["iterations"] - 1), max(hi, a["iterations"] + 1))
    ax1.xaxis.get_major_locator().set_params(integer=True)
    ax1.set_xlabel("iterations to converge")
    ax1.set_ylabel("runs")
    ax1.set_title("Iterations to converge")
    pc = df["percent_correct"].to_numpy(dtype=float)
    ax2.hist(pc[np.isfinite(pc)], bins=min(20, max(5, len(pc) // 3)), color="#4a7ab5",
             edgecolor="white")
    if a:
        ax2.axvline(a["percent_correct"], color="#c0392b", lw=2)
        ax2.annotate(f"article: {a['percent_correct']:.2f}%\n(percentile "
                     f"{a['percent_correct_percentile']:.0f})", (a["percent_correct"], 0.97),
                     xycoords=("data", "axes fraction"), ha="right", va="top", color="#c0392b",
                     fontsize=9, xytext=(-4, 0), textcoords="offset points", bbox=box)
        lo, hi = ax2.get_xlim()
        ax2.set_xlim(min(lo, a["percent_correct"] - 0.2), max(hi, a["percent_correct"] + 0.2))
    for ax in (ax1, ax2):                     # room above the bars for the article's label
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
        ax.yaxis.get_major_locator().set_params(integer=True)
    ax2.set_xlabel("percent correct (the article's metric)")
    ax2.set_ylabel("runs")
    ax2.set_title("Percent correct on the test set")
    fig.suptitle(f"{s['runs']} seeds, {_describe(df)}")
    fig.tight_layout()
    return [_save(fig, prefix.with_name(prefix.name + "-seeds.png"))]


def _grid_plot(fig, df, grid: list[str], prefix: Path) -> str:
    ax1, ax2 = fig.subplots(1, 2)
    rest = f" (mean over {', '.join(grid[2:])} and seeds)" if len(grid) > 2 else " (mean over seeds)"
    for ax, col, title, fmt, cmap in ((ax1, "percent_correct", "percent correct", "{:.2f}", "viridis"),
                                      (ax2, "iterations", "iterations", "{:.1f}", "magma_r")):
        if len(grid) == 1:
            g = df.groupby(grid[0], sort=True)[col]
            m, sd = g.mean(), g.std(ddof=1).fillna(0)
            x = np.arange(len(m))
            ax.errorbar(x, m.to_numpy(), yerr=sd.to_numpy(), fmt="o-", color="#4a7ab5", capsize=4)
            ax.set_xticks(x, [str(v) for v in m.index])
            ax.set_xlabel(grid[0])
            ax.set_ylabel(f"{title} (mean ± sd)")
        else:
            t = df.pivot_table(index=grid[0], columns=grid[1], values=col, aggfunc="mean")
            im = ax.imshow(t.to_numpy(dtype=float), cmap=cmap, aspect="auto")
            ax.set_xticks(range(t.shape[1]), [str(v) for v in t.columns])
            ax.set_yticks(range(t.shape[0]), [str(v) for v in t.index])
            ax.set_xlabel(grid[1])
            ax.set_ylabel(grid[0])
            vals = t.to_numpy(dtype=float)
            mid = np.nanmean(vals)
            for i in range(t.shape[0]):
                for j in range(t.shape[1]):
                    if np.isfinite(vals[i, j]):
                        ax.text(j, i, fmt.format(vals[i, j]), ha="center", va="center", fontsize=9,
                                color="white" if (vals[i, j] < mid) == (cmap == "viridis") else "black")
            fig.colorbar(im, ax=ax, shrink=0.85)
        ax.set_title(title + (rest if len(grid) != 1 else ""))
    fig.suptitle(f"{df['seed'].nunique()} seed{'s' if df['seed'].nunique() != 1 else ''} a cell, "
                 f"{_describe(df)}")
    fig.tight_layout()
    return _save(fig, prefix.with_name(prefix.name + "-grid.png"))

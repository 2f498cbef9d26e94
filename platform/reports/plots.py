"""Server-rendered SVG pictures of reports (matplotlib, Agg canvas, SVG output, text kept as text).

Every function takes one or more reports (compared reports are drawn over each other) and
returns an SVG document as a string. Reports are frozen, so the pictures are too.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

VOCAL = "#f08c00"
NONVOCAL = "#5c7cfa"
INK = "#1d2330"
MUTED = "#667085"
PALETTE = ["#3b5bdb", "#f08c00", "#2b8a3e", "#c92a2a", "#7048e8", "#0c8599", "#e8590c", "#495057"]
STYLE = {
    "svg.fonttype": "none", "font.family": "sans-serif", "font.size": 10, "axes.edgecolor": "#c5cad3",
    "axes.labelcolor": INK, "xtick.color": MUTED, "ytick.color": MUTED, "axes.titleweight": "bold",
    "axes.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": "#e9ecef", "grid.linewidth": 0.8, "legend.frameon": False, "svg.hashsalt": "singscope",
}
PLOTS = ("roc", "pr", "threshold", "confusion", "songs")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _label(report, many: bool) -> str:
    return f"#{report.pk} {report.model_version.name}" if many else report.model_version.name


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def plot_roc(reports) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
        ax.plot([0, 1], [0, 1], color="#ced4da", lw=1, ls="--", label="chance")
        for k, r in enumerate(reports):
            roc = r.curves.get("roc", {})
            if roc.get("fpr"):
                ax.plot(roc["fpr"], roc["tpr"], color=PALETTE[k % len(PALETTE)], lw=2,
                        label=f"{_label(r, len(reports) > 1)}  AUC {r.pooled.get('roc_auc') or 0:.3f}")
        _operating_points(ax, reports, x="fpr", y="recall")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False-positive rate (non-vocal called vocal)",
               ylabel="True-positive rate (recall)", title="ROC curve")
        ax.legend(loc="lower right", fontsize=9)
        return _svg(fig)


def plot_pr(reports) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
        for k, r in enumerate(reports):
            pr = r.curves.get("pr", {})
            if pr.get("recall"):
                ax.step(pr["recall"], pr["precision"], where="post", color=PALETTE[k % len(PALETTE)], lw=2,
                        label=f"{_label(r, len(reports) > 1)}  AP {r.pooled.get('pr_auc') or 0:.3f}")
        _operating_points(ax, reports, x="recall", y="precision")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="Recall (vocal frames found)", ylabel="Precision",
               title="Precision-recall curve")
        ax.legend(loc="lower left", fontsize=9)
        return _svg(fig)


def _operating_points(ax, reports, *, x: str, y: str) -> None:
    for k, r in enumerate(reports):
        px, py = r.pooled.get(x), r.pooled.get(y)
        if px is not None and py is not None:
            ax.plot([px], [py], "o", ms=7, mfc="white", mec=PALETTE[k % len(PALETTE)], mew=2, zorder=5)
    ax.plot([], [], "o", ms=7, mfc="white", mec=MUTED, mew=2, label="operating point")


def plot_threshold(reports) -> str:
    """F1 (solid) and accuracy (dashed) against the decision threshold; dotted line: threshold used."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
        many = len(reports) > 1
        plotted = False
        for k, r in enumerate(reports):
            sweep = r.curves.get("sweep", {})
            if not sweep.get("threshold"):
                continue
            plotted = True
            color = PALETTE[k % len(PALETTE)] if many else None
            t = sweep["threshold"]
            ax.plot(t, [v if v is not None else float("nan") for v in sweep["f1"]], lw=2,
                    color=color or VOCAL, label=f"F1{' ' + _label(r, True) if many else ''}")
            ax.plot(t, sweep["accuracy"], lw=2, ls="--", color=color or NONVOCAL,
                    label=f"accuracy{' ' + _label(r, True) if many else ''}")
            ax.axvline(r.threshold, color=color or MUTED, lw=1, ls=":")
        used = f" (dotted: {reports[0].threshold:.2f} used)" if not many and reports else " (dotted: thresholds used)"
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="Threshold on the smoothed vocal probability", ylabel="Score",
               title="F1 and accuracy vs threshold" + used)
        if plotted:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9)
        else:
            ax.text(0.5, 0.5, "No threshold sweep in this report", ha="center", va="center", color=MUTED)
        return _svg(fig)


def plot_songs(reports) -> str:
    """Per-song F1 bars, one bar per report (model) for each song, songs in the first report's order."""
    base = reports[0]
    titles = [row["title"] for row in base.per_song]
    ids = [row["song"] for row in base.per_song]
    n = len(ids)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, max(2.2, 0.32 * n * max(1, len(reports)) ** 0.6 + 1.2)))
        height = 0.8 / len(reports)
        for k, r in enumerate(reports):
            f1 = {row["song"]: row.get("f1") for row in r.per_song}
            ys = [i + (k - (len(reports) - 1) / 2) * height for i in range(n)]
            vals = [f1.get(sid) or 0.0 for sid in ids]
            color = PALETTE[k % len(PALETTE)] if len(reports) > 1 else VOCAL
            bars = ax.barh(ys, vals, height=height * 0.92, color=color, label=_label(r, len(reports) > 1))
            if len(reports) == 1:
                for bar, v in zip(bars, vals, strict=True):
                    ax.text(v + 0.01, bar.get_y() + bar.get_height() / 2, f"{100 * v:.1f}", va="center", fontsize=8, color=MUTED)
        ax.set_yticks(range(n), [t if len(t) <= 32 else t[:30] + "..." for t in titles])
        ax.invert_yaxis()
        ax.set(xlim=(0, 1.08), xlabel="Vocal F1", title="F1 per song")
        ax.grid(axis="y", visible=False)
        if len(reports) > 1:
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=min(3, len(reports)), fontsize=9)
            ax.set_title("F1 per song", pad=12 + 14 * ((len(reports) + 2) // 3))
        return _svg(fig)


def plot_confusion(reports) -> str:
    r = reports[0]
    p = r.pooled
    cells = [[p.get("tp", 0), p.get("fn", 0)], [p.get("fp", 0), p.get("tn", 0)]]
    rows = [p.get("tp", 0) + p.get("fn", 0), p.get("fp", 0) + p.get("tn", 0)]
    with plt.rc_context(STYLE | {"axes.grid": False}):
        fig, ax = plt.subplots(figsize=(4.2, 3.6))
        share = [[c / rows[i] if rows[i] else 0.0 for c in row] for i, row in enumerate(cells)]
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        names = [["true positive", "false negative"], ["false positive", "true negative"]]
        for i in range(2):
            for j in range(2):
                dark = share[i][j] > 0.55
                ax.text(j, i, f"{cells[i][j]:,}\n{100 * share[i][j]:.1f}% of row\n{names[i][j]}", ha="center", va="center",
                        fontsize=9, color="white" if dark else INK)
        ax.set_xticks([0, 1], ["vocal", "non-vocal"])
        ax.set_yticks([0, 1], ["vocal", "non-vocal"])
        ax.set(xlabel="Model says", ylabel="Reference says", title="Confusion matrix (frames)")
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        return _svg(fig)


RENDER = {"roc": plot_roc, "pr": plot_pr, "threshold": plot_threshold, "songs": plot_songs, "confusion": plot_confusion}


def plot_render(*, name: str, reports) -> str:
    """SVG of plot `name` (one of PLOTS) for the reports; KeyError for an unknown name."""
    return RENDER[name](list(reports))

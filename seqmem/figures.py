"""Matplotlib figures (PNG only: its bytes are stable run to run, SVG/PDF embed dates and ids)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from seqmem.core.artifacts import atomic_path  # noqa: E402

# colour is the model, in every figure and in the Vega templates (.dvc/plots), whatever the order of `flavors:`
COLORS = {"rnn": "C0", "lstm": "C1", "gru": "C2"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # shape as well as colour: no chart by colour alone
SMOOTH = 25  # the loss charts' moving average, in the PNG and the Vega template (.dvc/plots/training.json)
PNG_META = {"Software": None}  # no version string in the file: same bytes across matplotlib patch releases


def save(fig: plt.Figure, path: str | Path) -> None:
    """Write a PNG atomically and free the figure."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata=PNG_META)
    plt.close(fig)


def loss_figure(histories: dict[str, list[dict]], smooth: int = SMOOTH) -> plt.Figure:
    """Training loss per model (raw, faint; moving average, solid) on a log scale."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rows in histories.items():
        steps = [r["step"] for r in rows]
        loss = [r["loss"] for r in rows]
        (line,) = ax.plot(steps, loss, alpha=0.25, lw=0.8, color=COLORS[name])
        k = min(smooth, len(loss))
        avg = [sum(loss[i - k + 1 : i + 1]) / k for i in range(k - 1, len(loss))]
        ax.plot(steps[k - 1 :], avg, color=line.get_color(), lw=1.8, label=name.upper())
    ax.set(xlabel="training step", ylabel="training loss (BCE)", yscale="log",
           title=f"Training loss (faint: every step; bold: mean of the last {smooth} steps)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _legend_below(fig: plt.Figure, ax: plt.Axes, ncol: int) -> None:
    """One legend for all panels, under them: inside a panel it covers the lines."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=9, handlelength=3.5, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))


def _model_style(i: int) -> dict:
    """The i-th model's line: each thinner than the one before, on top of it, so equal curves stay visible."""
    return {"lw": max(4.5 - 1.5 * i, 1.2), "marker": MARKERS[i % len(MARKERS)], "ms": max(7 - 2 * i, 3),
            "zorder": 2 + i}


def traces_figure(traces: dict[str, list[dict]]) -> plt.Figure:
    """One panel per probe: P(-1 seen) against step, one line per model in its colour, the -1 and 0.5 marked."""
    probes = list(dict.fromkeys(r["probe"] for rows in traces.values() for r in rows))
    fig, axes = plt.subplots(1, len(probes), figsize=(3.4 * len(probes) + 0.6, 3.6), sharey=True, squeeze=False)
    for ax, probe in zip(axes[0], probes, strict=True):
        for i, (name, rows) in enumerate(traces.items()):
            pts = [r for r in rows if r["probe"] == probe]
            # steps-post: the decision after reading step t holds until t + 1, so it jumps at the -1 itself
            ax.plot([r["step"] for r in pts], [r["p"] for r in pts], color=COLORS[name], drawstyle="steps-post",
                    label=name.upper(), **_model_style(i))
        first = next(iter(traces.values()))
        for r in first:
            if r["probe"] == probe and r["token"] == -1:  # where the -1 arrives
                ax.axvline(r["step"], color="0.2", ls=":", lw=1.4, zorder=1)
                last = r["step"] == max(q["step"] for q in first)  # at the right edge: the label goes left
                ax.annotate("-1", (r["step"], 0.5), xytext=(-14 if last else 4, 6), textcoords="offset points",
                            fontsize=9)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--", zorder=1)
        T = int(max(r["step"] for r in first)) + 1
        ax.set(title=probe, xlabel="time step", ylim=(-0.05, 1.05), xlim=(-0.6, T - 0.4))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("P(a -1 was seen)")
    _legend_below(fig, axes[0][0], ncol=len(traces))
    return fig


def retention_figure(curves: dict[str, list[dict]]) -> plt.Figure:
    """Share of sequences still remembering their -1 against distance (log), and false alarms without one."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, rows) in enumerate(curves.items()):
        d = [r["distance"] for r in rows]
        lw = max(5.0 - 2.6 * i, 1.2)  # each model thinner than the last, on top: equal curves stay visible
        (line,) = ax.plot(d, [r["latched"] for r in rows], lw=lw, color=COLORS[name],
                          label=f"{name.upper()}: with a -1, still remembered")
        ax.plot(d, [r["false_alarm"] for r in rows], ls="--", lw=lw, color=line.get_color(),
                label=f"{name.upper()}: without a -1, false alarm")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.axvspan(10, 25, color="grey", alpha=0.15, lw=0, label="training lengths")
    ax.set(xscale="log", xlabel="steps after the -1 (log scale)", ylabel="share of sequences", ylim=(-0.03, 1.03),
           title="How long the memory of a -1 lasts")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    return fig


def staircase_figure(staircases: dict[str, list[dict]]) -> plt.Figure:
    """One panel per model: row i is the probe with its -1 at step i; a perfect memory is a staircase."""
    fig, axes = plt.subplots(1, len(staircases), figsize=(3.6 * len(staircases), 3.4), squeeze=False)
    for ax, (name, rows) in zip(axes[0], staircases.items(), strict=True):
        T = int(max(r["position"] for r in rows)) + 1
        grid = [[0.0] * T for _ in range(T)]
        for r in rows:
            grid[int(r["position"])][int(r["step"])] = r["p"]
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", origin="upper")
        for i in range(T):  # the -1 itself: row i, step i
            ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="white", lw=1.2))
        ax.set(title=name.upper(), xlabel="time step", ylabel="position of the -1")
        if T <= 30:  # a tick per step while they can be read
            ax.set(xticks=range(T), yticks=range(T))
    fig.colorbar(im, ax=axes[0].tolist(), label="P(a -1 was seen)", shrink=0.9)
    return fig


def _shade(color: str, k: int, n: int) -> tuple[float, float, float]:
    """The model's colour, darker for k = 0 and lighter for the last of n: units apart, the model still its colour."""
    r, g, b = matplotlib.colors.to_rgb(color)
    t = 0.0 if n == 1 else -0.35 + 0.7 * k / (n - 1)  # -0.35 (darker) .. 0.35 (lighter)
    mix = (0.0, 0.0, 0.0) if t < 0 else (1.0, 1.0, 1.0)
    return tuple(c + abs(t) * (m - c) for c, m in zip((r, g, b), mix, strict=True))


def hidden_figure(hidden: dict[str, list[dict]]) -> plt.Figure:
    """One panel per model: the units most correlated with 'a -1 was seen', on a negative and a positive probe.

    In its model's colour, a shade and a marker per unit, the probe by dash; each unit's line thinner
    than the one before and on top, so units that agree (saturated at 1, say) both stay visible.
    """
    fig, axes = plt.subplots(1, len(hidden), figsize=(4.2 * len(hidden), 3.8), squeeze=False)
    for ax, (name, rows) in zip(axes[0], hidden.items(), strict=True):
        probes = list(dict.fromkeys(r["probe"] for r in rows))
        units = list(dict.fromkeys(r["unit"] for r in rows))
        for k, unit in enumerate(units):
            for probe, style in zip(probes, ("--", "-"), strict=False):
                pts = [r for r in rows if r["unit"] == unit and r["probe"] == probe]
                ax.plot([r["step"] for r in pts], [r["value"] for r in pts], ls=style, marker=MARKERS[k],
                        ms=max(6 - 1.5 * k, 2.5), lw=max(2.6 - 1.0 * k, 0.9), color=_shade(COLORS[name], k, len(units)),
                        label=f"{unit}, {probe}", zorder=2 + k)
        for step in {r["step"] for r in rows if r["token"] == -1}:
            ax.axvline(step, color="0.2", ls=":", lw=1.2)
            ax.annotate("-1", (step, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", fontsize=8)
        ax.set(title=name.upper(), xlabel="time step", ylabel="activation")
        ax.grid(alpha=0.3)
        # each panel follows its own units: a legend under each, with swatches long enough to show the dash
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8, handlelength=3.5,
                  frameon=False)
    fig.tight_layout()
    return fig


def attractors_figure(panels: dict[str, dict[str, list[dict]]]) -> plt.Figure:
    """One panel per model: real trajectories, every digit's fixed points and cycles, on their top two principal axes.

    `panels`: {flavor: {"points": rows, "trajectories": rows}}. A point is filled if stable, hollow if
    a saddle (or unstable), a cross if only slow (no fixed point under its digit); its colour is its
    decision P(a -1 was seen). The states of a cycle (rows with period k > 1, phases 0..k-1 in turn)
    are diamonds, filled or hollow alike, joined by a thin line in the order the map visits them.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels) + 1, 4.4), squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.86, bottom=0.25, top=0.9, wspace=0.28)
    cmap, norm = plt.get_cmap("coolwarm"), matplotlib.colors.Normalize(0, 1)
    for ax, (name, data) in zip(axes[0], panels.items(), strict=True):
        for seq in dict.fromkeys(r["sequence"] for r in data["trajectories"]):
            pts = [r for r in data["trajectories"] if r["sequence"] == seq]
            seen = any(r["token"] == -1 for r in pts)
            ax.plot([r["pc1"] for r in pts], [r["pc2"] for r in pts], color="0.3" if seen else "0.65", lw=0.9,
                    ls="-" if seen else "--", marker=".", ms=3, zorder=1)
            for r in pts:
                if r["token"] == -1:  # where the -1 kicks the state over
                    ax.annotate("-1", (r["pc1"], r["pc2"]), xytext=(5, -3), textcoords="offset points", fontsize=8)
        fixed = [r for r in data["points"] if int(r.get("period", 1)) == 1]
        _draw_cycles(ax, [r for r in data["points"] if int(r.get("period", 1)) > 1], cmap, norm)
        for kind in ("stable", "saddle", "unstable", "marginal", "slow"):
            pts = [r for r in fixed if r["kind"] == kind]
            if not pts:
                continue
            colors = cmap(norm([r["p"] for r in pts]))
            xy = [r["pc1"] for r in pts], [r["pc2"] for r in pts]
            if kind == "slow":
                ax.scatter(*xy, c=colors, marker="x", s=40, lw=1.4, zorder=2)
            else:  # filled: it attracts; hollow: it repels in some direction
                ax.scatter(*xy, facecolors=colors if kind in ("stable", "marginal") else "none", edgecolors=colors,
                           marker="o", s=46, lw=1.4, zorder=2)
        # the view is the trajectories' neighbourhood: a point far out (a leaky LSTM's are thousands of
        # units away) would squash them into a corner; it is counted instead
        box = [(min(v), max(v)) for v in ([r[k] for r in data["trajectories"]] for k in ("pc1", "pc2"))]
        box = [(lo - 0.3 * (hi - lo) - 0.1, hi + 0.3 * (hi - lo) + 0.1) for lo, hi in box]
        ax.set(xlim=box[0], ylim=box[1], title=name.upper(), xlabel="principal component 1",
               ylabel="principal component 2")
        far = sum(not (box[0][0] <= r["pc1"] <= box[0][1] and box[1][0] <= r["pc2"] <= box[1][1])
                  for r in data["points"])
        if far:
            ax.text(0.02, 0.02, f"{far} more point{'s' * (far > 1)} beyond this view", transform=ax.transAxes,
                    fontsize=8, color="0.3")
        ax.grid(alpha=0.3)
    cax = fig.add_axes((0.89, 0.25, 0.015, 0.65))
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, label="P(a -1 was seen) at the point")
    grey = dict(color="0.4", ls="none", ms=7, mew=1.4)
    legend = [Line2D([], [], color="0.3", marker=".", label="a sequence with a -1"),
              Line2D([], [], color="0.65", ls="--", marker=".", label="a sequence without"),
              Line2D([], [], marker="o", label="stable fixed point", **grey),
              Line2D([], [], marker="o", mfc="none", label="saddle (unstable)", **grey),
              Line2D([], [], marker="D", ms=5.5, mew=1.4, color="0.4", ls=":", lw=0.9,
                     label="stable cycle (states joined)"),
              Line2D([], [], marker="D", ms=5.5, mew=1.4, color="0.4", ls=":", lw=0.9, mfc="none",
                     label="saddle cycle (unstable)"),
              Line2D([], [], marker="x", label="slowest point (no fixed point)", **grey)]
    fig.legend(handles=legend, loc="lower center", ncol=4, fontsize=8, frameon=False)  # a column per kind
    return fig


def _draw_cycles(ax: plt.Axes, rows: list[dict], cmap, norm) -> None:
    """Each orbit's states (consecutive rows, phase 0 first) as diamonds, joined in the order the map visits them."""
    orbits = [rows[i : i + int(r["period"])] for i, r in enumerate(rows) if int(r["phase"]) == 0]
    for orbit in orbits:
        xy = [r["pc1"] for r in orbit] + [orbit[0]["pc1"]], [r["pc2"] for r in orbit] + [orbit[0]["pc2"]]
        # dotted, unlike the trajectories' lines; closed: the last state goes back to the first
        ax.plot(*xy, color="0.35", ls=":", lw=0.9, zorder=2)
        colors = cmap(norm([r["p"] for r in orbit]))
        ax.scatter(xy[0][:-1], xy[1][:-1], facecolors=colors if orbit[0]["kind"] in ("stable", "marginal") else "none",
                   edgecolors=colors, marker="D", s=34, lw=1.4, zorder=3)

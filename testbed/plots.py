"""The report's plots (PNG): rendering only, no judging.

Each takes plain data (what an experiment collected) and writes one file in the
output folder, returning its name.
"""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def _save(plt, fig, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=100)
    plt.close(fig)
    return name


def plot_gantt(out: Path, name: str, tasks: dict[str, list[dict]], heavy: int) -> str:
    """Each task a bar from its start to its end, one row per engine, for both views (the lecture's picture)."""
    plt = _plt()
    fig, axes = plt.subplots(len(tasks), 1, figsize=(9, 2.2 * len(tasks) + 0.6), sharex=True)
    axes = [axes] if len(tasks) == 1 else list(axes)
    titles = {"lb": "load-balanced view (lbview.map_async)", "direct": "direct view (dview.map_async)"}
    for ax, (view, ts) in zip(axes, tasks.items()):
        engines = sorted({t["engine"] for t in ts})
        for t in ts:
            row = engines.index(t["engine"])
            color = "#c0392b" if t["task"] < heavy else "#2e86c1"
            ax.barh(row, t["end"] - t["start"], left=t["start"], height=0.6, color=color, edgecolor="white")
        wall = max(t["end"] for t in ts)
        ax.set_yticks(range(len(engines)), [f"engine {e}" for e in engines])
        ax.invert_yaxis()
        ax.set_title(f"{titles.get(view, view)}: {len(ts)} tasks, last ends at {wall:.2f} s", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[-1].set_xlabel("seconds since the first task started (red: heavy task, blue: light)")
    return _save(plt, fig, out, name)


def plot_one_digit(out: Path, name: str, freqs: list[int], n: int) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(range(10), freqs, color="#2e86c1")
    ax.axhline(n / 10, color="#c0392b", linestyle="--", label=f"uniform: {n // 10}")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit")
    ax.set_ylabel("count")
    ax.set_title(f"one-digit frequencies of the first {n:,} decimals of pi")
    ax.legend(loc="lower right")
    return _save(plt, fig, out, name)


def plot_two_digit(out: Path, name: str, freqs: list[int], label: str) -> str:
    plt = _plt()
    total = sum(freqs)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar(range(100), [f / total for f in freqs], color="#2e86c1", width=0.8)
    ax.axhline(0.01, color="#c0392b", linestyle="--", label="uniform: 0.01")
    ax.set_xlabel("two-digit value 00..99")
    ax.set_ylabel("frequency")
    ax.set_ylim(0.0095, 0.0105)
    ax.set_title(f"2-digit frequencies of {label} decimals of pi ({total:,} pairs)")
    ax.legend(loc="lower right")
    return _save(plt, fig, out, name)


def plot_throughput(out: Path, name: str, dps: dict, engines: int, lecture: dict) -> str:
    plt = _plt()
    labels = ["1 engine", f"{engines} engines"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.27
    series = [("lecture's machine, lecture code", [lecture["digits_per_s_1"], lecture["digits_per_s_5"]], "#999999")]
    series += [(f"testbed, {impl} code", list(v), c) for (impl, v), c in zip(dps.items(), ("#2e86c1", "#27ae60"))]
    for i, (lbl, vals, color) in enumerate(series):
        ax.bar([x + (i - 1) * width for x in range(2)], [v / 1e6 for v in vals], width, label=lbl, color=color)
    ax.set_xticks(range(2), labels)
    ax.set_ylabel("million digits per second")
    ax.set_yscale("log")
    ax.set_title("2-digit frequency throughput")
    ax.legend(fontsize=8)
    return _save(plt, fig, out, name)

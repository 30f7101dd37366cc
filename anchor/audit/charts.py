"""The report's charts, drawn with matplotlib and returned as inline SVG text.

Figures are built with the object API (no pyplot), so drawing neither needs a display nor touches
global state, and the SVG hash salt is fixed so the same snapshot always yields the same markup.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..doctypes import names_of, type_id
from .ids import hex32
from .snapshot import ACTIVE, NONE, REVOKED, SUSPENDED, Snapshot, StatusEntry

STATUS_COLORS = {ACTIVE: "#2e7d32", SUSPENDED: "#f9a825", REVOKED: "#c62828", NONE: "#9e9e9e"}
PALETTE = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593"]
MAX_LANES = 40


_NO_METADATA: Any = {"Date": None, "Creator": None, "Format": None, "Type": None}
_RC: Any = {"svg.hashsalt": "trustanchor-audit", "svg.fonttype": "path", "font.size": 9}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        # No metadata: it only names matplotlib and RDF vocabularies, and a date would break reproducibility.
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata=_NO_METADATA)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _date_axis(ax: matplotlib.axes.Axes) -> None:
    loc = AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))


def _empty(message: str) -> str:
    fig = Figure(figsize=(7, 1.2))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555")
    return _svg(fig)


# Bar widths the documents chart picks from, shortest first: the first that keeps the history within
# MAX_BARS bars, so that a history of a few minutes is not one bar and one of years is not thousands.
BUCKETS: list[tuple[int, str]] = [
    (60, "minute"),
    (5 * 60, "5 minutes"),
    (15 * 60, "15 minutes"),
    (3_600, "hour"),
    (6 * 3_600, "6 hours"),
    (86_400, "day"),
    (7 * 86_400, "week"),
]
MAX_BARS = 48


def bucket_for(first: int, last: int) -> tuple[int, str]:
    """The (seconds, name) of the shortest bucket that covers first..last in at most MAX_BARS bars."""
    for size, name in BUCKETS:
        if last // size - first // size + 1 <= MAX_BARS:
            return size, name
    return BUCKETS[-1]


def anchored_figure(s: Snapshot) -> Figure | None:
    """Stacked bars: documents anchored per time bucket, one colour per issuing party; None if none."""
    if not s.batches:
        return None
    times = [b.anchored_at for b in s.batches.values()]
    size, unit = bucket_for(min(times), max(times))
    per_slot: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for b in s.batches.values():
        per_slot[b.party][b.anchored_at // size] += b.size
    first, last = min(times) // size, max(times) // size
    # Every bucket in the range gets a slot, so quiet ones show as gaps rather than vanishing.
    slots = list(range(first, last + 1))
    starts = [_dt(n * size) for n in slots]
    if size >= 86_400:
        labels, axis = [d.strftime("%Y-%m-%d") for d in starts], f"{unit} starting (UTC)"
    elif starts[0].date() == starts[-1].date():
        labels = [d.strftime("%H:%M") for d in starts]
        axis = f"{unit} starting (UTC), on {starts[0]:%Y-%m-%d}"
    else:
        labels, axis = [d.strftime("%Y-%m-%d %H:%M") for d in starts], f"{unit} starting (UTC)"
    fig = Figure(figsize=(9, 3.6))
    ax = fig.add_subplot()
    x = list(range(len(slots)))
    bottom = [0] * len(slots)
    # One colour per party, by its position in the registry, so that it is the same in every report.
    order = {p: n for n, p in enumerate(s.party_order)}
    for party in sorted(per_slot, key=lambda p: (order.get(p, len(order)), p)):
        heights = [per_slot[party].get(n, 0) for n in slots]
        color = PALETTE[order.get(party, len(order)) % len(PALETTE)]
        ax.bar(x, heights, width=0.8, bottom=bottom, label=party or "unknown", color=color)
        bottom = [a + h for a, h in zip(bottom, heights, strict=True)]
    step = max(1, len(slots) // 12)
    ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
    ax.set_xlim(-0.6, len(slots) - 0.4)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(axis)
    ax.set_ylabel("documents anchored")
    ax.set_title(f"Documents anchored per {unit} (UTC, ledger time), by issuing party")
    ax.legend(title="party", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def anchored_over_time(s: Snapshot) -> str:
    fig = anchored_figure(s)
    return _empty("No documents have been anchored yet.") if fig is None else _svg(fig)


def _lanes(s: Snapshot) -> list[tuple[str, list[StatusEntry], int]]:
    lanes = [(f"CA {hex32(c.fingerprint)[:10]}… ({c.party})", c.history, c.block) for c in s.cas.values()]
    lanes += [(f"issuer {i.account[:10]}… ({i.party})", i.history, i.block) for i in s.issuers.values()]
    # The most recently changed entities matter most when there are too many to draw.
    lanes.sort(key=lambda lane: max(e.block for e in lane[1]), reverse=True)
    return lanes[:MAX_LANES]


def status_timeline(s: Snapshot) -> str:
    """One lane per CA / issuing account, coloured by status over time; backdating drawn as arrows."""
    lanes = _lanes(s)
    if not lanes:
        return _empty("No certificate authorities or issuing accounts yet.")
    end = s.block_time
    fig = Figure(figsize=(9, 0.9 + 0.32 * len(lanes)))
    ax = fig.add_subplot()
    for y, (_, history, _) in enumerate(reversed(lanes)):
        revoked = next((e for e in history if e.status == REVOKED), None)
        # History order, not sorted by time: a suspension and its resumption may share a timestamp.
        stops = [(e.effective_at, e.status) for e in history if e.status != REVOKED]
        segments = []
        for k, (start, status) in enumerate(stops):
            stop = stops[k + 1][0] if k + 1 < len(stops) else end
            if revoked is not None:
                stop = min(stop, revoked.effective_at)
                start = min(start, revoked.effective_at)
            segments.append((start, max(stop, start), status))
        if revoked is not None:
            segments.append((revoked.effective_at, max(end, revoked.effective_at), REVOKED))
        for start, stop, status in segments:
            if stop <= start and status != REVOKED:
                continue
            ax.broken_barh(
                [(date2num(_dt(start)), max(date2num(_dt(stop)) - date2num(_dt(start)), 1e-4))],
                (y - 0.35, 0.7),
                facecolors=STATUS_COLORS[status],
            )
        for e in history:
            if e.effective_at < e.recorded_at:
                ax.annotate(
                    "",
                    xy=(date2num(_dt(e.effective_at)), y),
                    xytext=(date2num(_dt(e.recorded_at)), y),
                    arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2},
                )
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([lane[0] for lane in reversed(lanes)], fontsize=7)
    ax.xaxis_date()
    _date_axis(ax)
    ax.set_title("Status of certificate authorities and issuing accounts over time")
    handles: list[Patch | Line2D] = [
        Patch(color=STATUS_COLORS[ACTIVE], label="active"),
        Patch(color=STATUS_COLORS[SUSPENDED], label="suspended"),
        Patch(color=STATUS_COLORS[REVOKED], label="revoked"),
        Line2D([], [], color="black", marker=">", label="backdated: recorded → effective"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return _svg(fig)


def abbreviations(names: list[str]) -> dict[str, str]:
    """A short, unique code per document type name: its words' initials (certificate-of-origin: COO)."""
    out: dict[str, str] = {}
    for name in names:
        words = name.split("-")
        code = f"T{words[1]}" if name.startswith("type-") else "".join(w[:1] for w in words).upper()
        base, n = code, 2
        while code in out.values():
            code, n = f"{base}{n}", n + 1
        out[name] = code
    return out


MAX_CELL_TYPES = 6


def recognition_grid_figure(s: Snapshot) -> Figure | None:
    """The recognition matrix at the snapshot's block (rows recognize columns); None under two parties.

    Cells name the document types by short codes, spelled out in a legend under the grid, so that long
    names are neither cut nor spill over their neighbours."""
    parties = list(s.party_order)
    if len(parties) < 2:
        return None
    t = s.block_time
    values = [[s.recognition_at(r, i, t).bit_count() if r != i else -1 for i in parties] for r in parties]
    cells = {(r, i): names_of(s.recognition_at(r, i, t)) for r in parties for i in parties if r != i}
    used = sorted({n for names in cells.values() if names != ["all"] for n in names}, key=type_id)
    codes = abbreviations(used)
    fig = Figure(figsize=(1.6 + 1.1 * len(parties), 1.2 + 0.9 * len(parties)))
    ax = fig.add_subplot()
    top = max(1, max(v for row in values for v in row))
    shown = [[v if v >= 0 else float("nan") for v in row] for row in values]
    im = ax.imshow(shown, cmap="Greens", vmin=0, vmax=top)
    for y, r in enumerate(parties):
        for x, i in enumerate(parties):
            if r == i:
                label, color = "self", "#555"
            else:
                names = cells[(r, i)]
                if not names:
                    label = "none"
                elif names == ["all"]:
                    label = "all"
                else:
                    short = [codes[n] for n in names[:MAX_CELL_TYPES]]
                    lines = [", ".join(short[k : k + 3]) for k in range(0, len(short), 3)]
                    if len(names) > MAX_CELL_TYPES:
                        lines.append(f"+{len(names) - MAX_CELL_TYPES}")
                    label = "\n".join(lines)
                color = "white" if values[y][x] > top / 2 else "black"
            ax.text(x, y, label, ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(len(parties)), parties)
    ax.set_yticks(range(len(parties)), parties)
    ax.set_xlabel("is recognized (issuing party)")
    ax.set_ylabel("recognizes (receiving party)")
    ax.set_title("Who recognizes whom now (number of document types)")
    bar = fig.colorbar(im, ax=ax, shrink=0.7, label="document types")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    if codes:
        legend = "\n".join(f"{code} = {name}" for name, code in codes.items())
        # Under the x axis label, in figure coordinates: the tight bounding box of the SVG takes it in.
        fig.text(0.02, -0.02, legend, ha="left", va="top", fontsize=7, color="#333")
    return fig


def recognition_grid(s: Snapshot) -> str:
    fig = recognition_grid_figure(s)
    return _empty("Recognition needs at least two parties.") if fig is None else _svg(fig)


LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def series_style(n: int) -> tuple[str, str, str]:
    """(colour, line style, marker) of the n-th series: no two of the first 56 share all three, and
    neighbours differ in each, so lines drawn on top of one another stay apart."""
    return PALETTE[n % len(PALETTE)], LINESTYLES[n % len(LINESTYLES)], MARKERS[n % len(MARKERS)]


def recognition_history_figure(s: Snapshot) -> Figure | None:
    """Number of document types each party recognizes of each other party, over time; None if none.

    Series are told apart by colour, dash style and marker, and shifted a little up or down each so that
    equal ones run side by side instead of hiding each other."""
    pairs = sorted((k, h) for k, h in s.recognition.items() if h)
    if not pairs:
        return None
    fig = Figure(figsize=(9, 3.2))
    ax = fig.add_subplot()
    end = _dt(s.block_time)
    spread = min(0.3, 0.06 * (len(pairs) - 1))
    for n, ((r, i), h) in enumerate(pairs):
        offset = 0.0 if len(pairs) == 1 else -spread / 2 + spread * n / (len(pairs) - 1)
        color, dash, marker = series_style(n)
        xs = [_dt(e.effective_at) for e in h] + [end]
        ys = [e.doc_types.bit_count() + offset for e in h]
        ys.append(ys[-1])
        ax.step(
            date2num(xs),
            ys,
            where="post",
            label=f"{r} → {i}",
            color=color,
            linestyle=dash,
            lw=1.6,
            marker=marker,
            markersize=4,
            markevery=list(range(len(h))),  # the changes, not the end of the line
        )
        backdated = [e for e in h if e.effective_at < e.recorded_at]
        ax.plot(
            date2num([_dt(e.effective_at) for e in backdated]),
            [e.doc_types.bit_count() + offset for e in backdated],
            "o",
            markersize=10,
            mfc="none",
            color=color,
        )
    ax.xaxis_date()
    _date_axis(ax)
    lo = min(_dt(e.effective_at) for _, h in pairs for e in h)
    ax.set_xlim(date2num(lo - timedelta(minutes=1)), date2num(end + timedelta(minutes=1)))
    top = max(e.doc_types.bit_count() for _, h in pairs for e in h)
    ax.set_ylim(-0.3 - spread / 2, top + 0.7 + spread / 2)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("document types recognized")
    ax.set_title("Recognition over time (rings: changes recorded with a backdated effect)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def recognition_history(s: Snapshot) -> str:
    fig = recognition_history_figure(s)
    return _empty("No party has recognized another yet.") if fig is None else _svg(fig)

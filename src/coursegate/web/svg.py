"""Pictures drawn as inline SVG (no script, no library): an assessment's timeline — one lane
for the defaults and one per override or student exception, with credit bands over time — and
bar charts. Every text is escaped here; the pages put the result in as markup, with a table
beside it for screen readers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo

from markupsafe import escape

from coursegate.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    Instant,
    format_for_people,
    from_instant,
    to_instant,
)
from coursegate.services.access.staff.timeline_lanes import AssessmentTimeline, Lane, Segment

HOUR = 3_600_000_000
DAY = 24 * HOUR
WIDTH = 960
LABEL = 230
LANE = 34
TOP = 26
AXIS = 40

FILL = {
    "practice": "#c9defa",
    "view": "#d9d9d9",
    "listed": "#f2f2f2",
}


def credit_fill(credit: float) -> str:
    """Darker for more credit: bonus, full, reduced."""
    if credit > 100:
        return "#1b5e20"
    if credit >= 100:
        return "#2e7d32"
    if credit >= 50:
        return "#b26a00"
    return "#8d4a00"


def _text_colour(kind: str, credit: float) -> str:
    return "#ffffff" if kind == "credit" else "#1a1a1a"


def _range(tl: AssessmentTimeline) -> tuple[Instant, Instant]:
    """Where something happens: the credit bands, the listings before release and the due
    dates (long practice or view-only tails run off the edge), and now."""
    busy: list[Instant] = []
    rest: list[Instant] = []
    for lane in tl.lanes:
        for s in lane.segments:
            if s.kind == "none":
                continue
            ends = [t for t in (s.start, s.end) if MIN_INSTANT < t < MAX_INSTANT]
            (busy if s.kind in ("credit", "listed") else rest).extend(ends)
        if lane.due is not None:
            busy.append(lane.due)
    points = busy or rest or [tl.at]
    lo, hi = min(points), max(points)
    near = max(hi - lo, 2 * DAY) // 3
    if lo - near <= tl.at <= hi + near:  # now is close enough to show where it falls
        lo, hi = min(lo, tl.at), max(hi, tl.at)
    if hi - lo < 2 * DAY:
        lo, hi = lo - DAY, hi + DAY
    pad = (hi - lo) // 20
    return lo - pad, hi + pad


_STEPS = (HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY)


def _ticks(lo: Instant, hi: Instant, tz: tzinfo) -> list[tuple[Instant, str]]:
    span = hi - lo
    step = next((s for s in _STEPS if span / s <= 9), 56 * DAY)
    start = from_instant(lo, tz)
    if step >= DAY:
        first = datetime(start.year, start.month, start.day, tzinfo=tz) + timedelta(days=1)
    else:
        first = datetime(start.year, start.month, start.day, start.hour, tzinfo=tz) + timedelta(
            hours=1
        )
    out: list[tuple[Instant, str]] = []
    t = first
    while to_instant(t) < hi:
        label = t.strftime("%a %b %-d") if step >= DAY else t.strftime("%-d %b %H:%M")
        out.append((to_instant(t), label))
        t = t + timedelta(microseconds=step)
        if step >= DAY:  # stay on local midnight across daylight-saving changes
            t = datetime(t.year, t.month, t.day, tzinfo=tz)
    return out


def _describe(s: Segment, tz: tzinfo) -> str:
    frm = "always" if s.start <= MIN_INSTANT else format_for_people(s.start, tz)
    to = "no end" if s.end >= MAX_INSTANT else format_for_people(s.end, tz)
    what = {
        "credit": f"{s.credit:g}% credit",
        "practice": "practice for 0%",
        "view": "view only",
        "listed": "listed, not open",
        "none": "no access",
    }[s.kind]
    extra = []
    if s.time_limit_minutes:
        extra.append(f"{s.time_limit_minutes} min")
    if s.password_required:
        extra.append("password")
    more = f" ({', '.join(extra)})" if extra else ""
    return f"{what}{more}: {frm} – {to}"


def timeline_svg(tl: AssessmentTimeline, tz: tzinfo) -> str:
    """The lanes of ``tl`` over the stretch of time where something happens."""
    lo, hi = _range(tl)
    height = TOP + LANE * len(tl.lanes) + AXIS
    x = _scale(lo, hi)
    parts: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="tl-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="tl-title">Timeline of {escape(tl.aid)}: credit over time for the defaults'
        f" and each override or student exception</title>",
    ]
    parts += _grid(lo, hi, tz, x, height)
    for i, lane in enumerate(tl.lanes):
        parts += _lane(lane, TOP + i * LANE, lo, hi, tz, x)
    parts += _now_mark(tl.at, lo, hi, tz, x, height)
    parts.append("</svg>")
    return "".join(parts)


def _scale(lo: Instant, hi: Instant) -> Callable[[Instant], float]:
    """Where an instant falls across the plot (an instant outside ``lo``..``hi`` at its edge)."""
    plot = WIDTH - LABEL - 10

    def x(t: Instant) -> float:
        t = min(max(t, lo), hi)
        return LABEL + plot * (t - lo) / (hi - lo)

    return x


def _grid(
    lo: Instant, hi: Instant, tz: tzinfo, x: Callable[[Instant], float], height: int
) -> list[str]:
    """The time axis: a grid line and a label at each tick."""
    parts: list[str] = []
    for t, label in _ticks(lo, hi, tz):
        xt = x(t)
        parts.append(
            f'<line x1="{xt:.1f}" y1="{TOP - 6}" x2="{xt:.1f}" y2="{height - AXIS + 4}" '
            'class="grid"/>'
        )
        parts.append(
            f'<text x="{xt:.1f}" y="{height - AXIS + 18}" class="tick" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def _lane(
    lane: Lane, y: int, lo: Instant, hi: Instant, tz: tzinfo, x: Callable[[Instant], float]
) -> list[str]:
    """One lane at height ``y``: its name, its rule, its bands and its due date."""
    name = lane.name if len(lane.name) <= 32 else lane.name[:31] + "…"
    full = f"<title>{escape(lane.name)}</title>" if name != lane.name else ""
    parts = [
        f'<text x="6" y="{y + LANE / 2 + 4:.1f}" class="lane-name lane-{lane.kind}">'
        f"{full}{escape(name)}</text>",
        f'<line x1="{LABEL}" y1="{y + LANE - 2}" x2="{WIDTH - 10}" y2="{y + LANE - 2}" '
        'class="lane-rule"/>',
    ]
    for s in lane.segments:
        if s.kind != "none":
            parts += _band(s, y, tz, x)
    if lane.due is not None and lo < lane.due < hi:
        xd = x(lane.due)
        parts.append(
            f'<path d="M{xd:.1f},{y + 1} l-5,-5 h10 z" class="due-mark">'
            f"<title>due {escape(format_for_people(lane.due, tz))}</title></path>"
        )
    return parts


def _band(s: Segment, y: int, tz: tzinfo, x: Callable[[Instant], float]) -> list[str]:
    """One segment of a lane as a coloured band, labelled with its credit when it fits (nothing
    when it is too narrow to see)."""
    x0, x1 = x(s.start), x(s.end)
    if x1 - x0 < 0.5:
        return []
    fill = credit_fill(s.credit) if s.kind == "credit" else FILL[s.kind]
    desc = escape(_describe(s, tz))
    parts = [
        f'<rect x="{x0:.1f}" y="{y + 4}" width="{x1 - x0:.1f}" height="{LANE - 10}" '
        f'fill="{fill}" class="seg seg-{s.kind}" rx="2"><title>{desc}</title></rect>'
    ]
    label = f"{s.credit:g}%" if s.kind == "credit" else ""
    if s.kind == "practice":
        label = "0%"
    if label and x1 - x0 > 8 * len(label) + 6:
        parts.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{y + LANE / 2 + 3:.1f}" class="seg-label" '
            f'fill="{_text_colour(s.kind, s.credit)}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return parts


def _now_mark(
    at: Instant,
    lo: Instant,
    hi: Instant,
    tz: tzinfo,
    x: Callable[[Instant], float],
    height: int,
) -> list[str]:
    """A line at now, or an arrow at the edge saying which way now lies."""
    now = escape(format_for_people(at, tz))
    if lo < at < hi:
        xn = x(at)
        anchor = "end" if xn > WIDTH - 160 else "start"
        dx = -4 if anchor == "end" else 4
        return [
            f'<line x1="{xn:.1f}" y1="{TOP - 14}" x2="{xn:.1f}" y2="{height - AXIS}" class="now"/>',
            f'<text x="{xn + dx:.1f}" y="{TOP - 14}" class="now-label" text-anchor="{anchor}">'
            f"now {now}</text>",
        ]
    if at <= lo:
        return [f'<text x="{LABEL}" y="{TOP - 14}" class="now-label">← now {now}</text>']
    return [
        f'<text x="{WIDTH - 10}" y="{TOP - 14}" class="now-label" text-anchor="end">'
        f"now {now} →</text>"
    ]


def segment_rows(tl: AssessmentTimeline, tz: tzinfo) -> list[tuple[str, str]]:
    """The same picture as text: (lane, what and when) for each band."""
    out: list[tuple[str, str]] = []
    for lane in tl.lanes:
        for s in lane.segments:
            if s.kind != "none":
                out.append((lane.name, _describe(s, tz)))
    return out


def bar_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    unit: str = "",
    width: int = 720,
) -> str:
    """Grouped bars: ``series`` is ``[(group, [(label, value), ...]), ...]``; one colour per
    label (the same in every group), a legend, and a title for screen readers."""
    palette = ("#1f5fa8", "#2e7d32", "#b26a00", "#7b1fa2", "#c62828", "#00695c")
    labels: list[str] = []
    for _, bars in series:
        for label, _v in bars:
            if label not in labels:
                labels.append(label)
    top = max([v for _, bars in series for _, v in bars] + [1.0])
    if all(float(v).is_integer() for _, bars in series for _, v in bars):
        top = float(max(4, -(-int(top) // 4) * 4))  # whole-number ticks for counts
    left, bottom, head = 48, 42, 26
    height = 240
    plot_h = height - bottom - head
    group_w = (width - left - 10) / max(1, len(series))
    bar_w = max(4.0, min(36.0, (group_w - 12) / max(1, len(labels))))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        v = top * k / 4
        y = head + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(f'{v:g}')}</text>"
        )
    for g, (group, bars) in enumerate(series):
        gx = left + g * group_w + 6
        for label, v in bars:
            i = labels.index(label)
            h = plot_h * v / top
            bx = gx + i * bar_w
            parts.append(
                f'<rect x="{bx:.1f}" y="{head + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{palette[i % len(palette)]}">'
                f"<title>{escape(f'{group}, {label}: {v:g}{unit}')}</title></rect>"
            )
        parts.append(
            f'<text x="{gx + group_w / 2 - 6:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle" class="tick">{escape(group)}</text>'
        )
    lx = left
    for i, label in enumerate(labels):
        parts.append(
            f'<rect x="{lx}" y="6" width="12" height="12" fill="{palette[i % len(palette)]}"/>'
            f'<text x="{lx + 16}" y="16" class="tick">{escape(label)}</text>'
        )
        lx += 24 + 8 * len(label)
    parts.append("</svg>")
    return "".join(parts)

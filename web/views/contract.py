"""The network contract week by week: a chart per network (required against delivered minutes,
failing weeks marked) and the commissioner's return as CSV, both from scheduler.contract on the
current rota."""

from __future__ import annotations

import io
from collections import defaultdict

from flask import Response, abort, g
from markupsafe import Markup, escape

from scheduler.contract import ContractWeek, contract_weeks, write_commissioner_csv
from web.db import get_db
from web.services.cells import neutralise_csv
from web.services.charts import BLUE, GREY, INK, MUTED, svg_chart, svg_text
from web.services.current_rota import known_rota, state
from web.views.auth import federation_blueprint

bp = federation_blueprint("contract", __name__, "/contract")

RED, RED_PALE, GREEN = "#d5281b", "#fdecea", "#007f3b"
FAILURE_WORDS = {
    "minutes": "minutes short",
    "nsh_uncovered": "standard hours uncovered",
    "nsh_without_gp": "standard hours without a GP",
}
TICK_STEPS = (30, 60, 120, 180, 300, 600, 1200, 1800, 3000, 6000, 12000, 30000, 60000)


@bp.get("/commissioner.csv")
def commissioner_csv():
    """The commissioner's return of the current rota: one row per network and ISO week."""
    st = state(get_db(), g.federation.id)
    if st.problem is None or st.row is None:
        abort(404)
    buffer = io.StringIO()
    write_commissioner_csv(contract_weeks(st.problem, known_rota(st.problem, st.rota)), buffer)
    filename = f"commissioner-return-{g.federation.slug}.csv"
    return Response(
        neutralise_csv(buffer.getvalue()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


# ---- the chart ----------------------------------------------------------------------------


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes / 60:.1f} h"


def _tick_step(top: int) -> int:
    return next((s for s in TICK_STEPS if top / s <= 5), TICK_STEPS[-1])


def _tip(w: ContractWeek) -> str:
    verdict = (
        "meets the contract"
        if w.passed
        else "fails: " + ", ".join(FAILURE_WORDS.get(f, f) for f in w.failures)
    )
    return (
        f"{w.network}, {w.week}: required {w.required_minutes} min, delivered "
        f"{w.delivered_minutes} min; {verdict}"
    )


def contract_chart(weeks: list[ContractWeek]) -> Markup:
    """One panel per network: for each ISO week the required minutes (grey) and those delivered
    (blue, red when the week fails); a failing week is shaded and marked ✕ under its label."""
    by_network: dict[str, list[ContractWeek]] = defaultdict(list)
    for w in weeks:
        by_network[w.network].append(w)
    if not by_network:
        return Markup("")
    count = max(len(ws) for ws in by_network.values())
    left, col, plot_h, panel_gap, top = 58, max(34, min(64, 760 // max(1, count))), 130, 52, 30
    width = left + col * count + 12
    body = [
        f'<rect x="{left}" y="8" width="12" height="10" fill="{GREY}"/>',
        svg_text(left + 16, 17, "required", 11, fill=MUTED),
        f'<rect x="{left + 84}" y="8" width="12" height="10" fill="{BLUE}"/>',
        svg_text(left + 100, 17, "delivered", 11, fill=MUTED),
        f'<rect x="{left + 170}" y="8" width="12" height="10" fill="{RED}"/>',
        svg_text(left + 186, 17, "week fails the contract (✕)", 11, fill=MUTED),
    ]
    y0 = top
    for network in sorted(by_network):
        ws = sorted(by_network[network], key=lambda w: w.week)
        body.append(svg_text(left, y0 + 14, network, 13, weight="600"))
        plot_top = y0 + 24
        base = plot_top + plot_h
        highest = max([max(w.required_minutes, w.delivered_minutes) for w in ws] + [60])
        step = _tick_step(highest)
        scale_top = step * -(-highest // step)
        for tick in range(0, scale_top + 1, step):
            y = base - plot_h * tick / scale_top
            body.append(
                f'<line x1="{left}" x2="{left + col * len(ws)}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#e3e8eb"/>'
            )
            body.append(svg_text(left - 6, y + 4, _hours(tick), 10, "end", MUTED))
        for i, w in enumerate(ws):
            x = left + i * col
            tip = escape(_tip(w))
            if not w.passed:
                body.append(
                    f'<rect x="{x + 1}" y="{plot_top}" width="{col - 2}" '
                    f'height="{plot_h}" fill="{RED_PALE}"/>'
                )
            req_h = plot_h * w.required_minutes / scale_top
            del_h = plot_h * w.delivered_minutes / scale_top
            bar = (col - 10) / 2
            body.append(
                f'<rect x="{x + 5:.1f}" y="{base - req_h:.1f}" width="{bar:.1f}" '
                f'height="{req_h:.1f}" fill="{GREY}"><title>{tip}</title></rect>'
            )
            body.append(
                f'<rect x="{x + 5 + bar:.1f}" y="{base - del_h:.1f}" width="{bar:.1f}" '
                f'height="{del_h:.1f}" fill="{BLUE if w.passed else RED}">'
                f"<title>{tip}</title></rect>"
            )
            label = w.week.split("-")[-1]
            body.append(svg_text(x + col / 2, base + 14, label, 10, "middle", INK))
            mark, colour = ("✓", GREEN) if w.passed else ("✕", RED)
            body.append(svg_text(x + col / 2, base + 28, mark, 12, "middle", colour, "700"))
        body.append(
            f'<line x1="{left}" x2="{left + col * len(ws)}" y1="{base}" y2="{base}" '
            f'stroke="{MUTED}"/>'
        )
        y0 = base + panel_gap - 10
    return svg_chart(
        width,
        y0 + 4,
        body,
        "Contract minutes per network and week: required against delivered, failing weeks marked",
    )

"""Pictures of the rota: coverage heatmap, practices' fair shares, clinicians' load."""

from __future__ import annotations

from flask import g, render_template

from scheduler.report import clinician_load, contract_weeks, fair_shares
from web.db import get_db
from web.services import charts, rota_state
from web.services.current_rota import state
from web.services.labels import people, role_label
from web.views.auth import federation_blueprint
from web.views.contract import contract_chart
from web.views.paging import paginate

bp = federation_blueprint("insights", __name__, "/insights")
rota_state.show_on(bp)
LOAD_PER_PAGE = 50


@bp.get("/")
def index():
    st = state(get_db(), g.federation.id)
    if st.problem is None:
        return render_template("insights/index.html", st=st)
    problem = st.problem
    rota = tuple(
        a
        for a in st.rota
        if a.session_id in problem.sessions_by_id and a.clinician_id in problem.clinicians_by_id
    )
    who = people(problem)
    shares = fair_shares(problem, rota)
    weeks = contract_weeks(problem, rota)
    busiest = sorted(clinician_load(problem, rota), key=lambda r: (-r["sessions"], r["name"]))
    load_page = paginate(busiest, "load_page", LOAD_PER_PAGE)  # one chart bar per clinician
    return render_template(
        "insights/index.html",
        st=st,
        heatmap=charts.heatmap(problem, rota),
        fair=charts.fair_share(shares),
        load=charts.load(
            [
                {**r, "name": who(r["clinician_id"]), "role": role_label(r["role"])}
                for r in load_page.items
            ]
        ),
        load_page=load_page,
        contract=weeks,
        contract_chart=contract_chart(weeks),
    )

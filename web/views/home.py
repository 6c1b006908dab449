"""The overview: the data, the rota and the contract at a glance."""

from __future__ import annotations

from flask import g, render_template

from scheduler.report import contract_weeks
from web.db import get_db
from web.services import rota_state
from web.services.current_rota import findings, state
from web.services.jobs import running_job
from web.views.auth import federation_blueprint

bp = federation_blueprint("home", __name__)
rota_state.show_on(bp)


@bp.get("/")
def dashboard():
    db = get_db()
    st = state(db, g.federation.id)
    unfilled, broken = findings(st)
    contract = contract_weeks(st.problem, st.rota) if st.problem is not None and st.row else []
    return render_template(
        "home/dashboard.html",
        st=st,
        unfilled=unfilled,
        broken=broken,
        contract=contract,
        job=running_job(db, g.federation.id),
    )

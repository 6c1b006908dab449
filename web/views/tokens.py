"""API tokens: each user makes, sees and revokes their personal access tokens of the JSON API
(web.api); an admin also makes them for, sees and revokes those of everyone in the federation.
A new token's secret is shown once, on the answer to the form that made it."""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from web.db import get_db
from web.models import ROLES, ApiToken, User, utcnow
from web.services.tokens import DEFAULT_DAYS, MAX_DAYS, TokenRefused, create_token, revoke
from web.views.auth import federation_blueprint

bp = federation_blueprint("tokens", __name__, "/tokens")
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _visible() -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.federation_id == g.federation.id)
    if not g.user.may("admin"):
        query = query.where(ApiToken.user_id == g.user.id)
    return list(get_db().scalars(query.order_by(ApiToken.id.desc())))


def _page(secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200):
    html = render_template(
        "tokens/index.html",
        tokens=_visible(),
        roles=[r for r in ROLES if g.user.may(r)],
        owners=_owners(),
        secret=secret,
        errors=errors or {},
        form=request.form if errors else {},
        default_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        now=utcnow(),
    )
    return make_response(html, status, PRIVATE_HEADERS)


def _owners() -> list[User]:
    """Whom the user may make a token for: themselves; an admin, anyone active in the
    federation."""
    if not g.user.may("admin"):
        return [g.user]
    return list(
        get_db().scalars(
            select(User)
            .where(User.federation_id == g.federation.id, User.active.is_(True))
            .order_by(User.email)
        )
    )


@bp.get("/")
def index():
    return _page()


@bp.post("/")
def create():
    days_text = request.form.get("expires_days", "").strip() or str(DEFAULT_DAYS)
    if not days_text.isdigit():
        return _page(errors={"expires_days": "a whole number of days"}, status=422)
    db = get_db()
    owner_id = request.form.get("owner", "")
    owner = next((u for u in _owners() if str(u.id) == owner_id), None) if owner_id else g.user
    if owner is None:
        return _page(errors={"owner": "choose a user of this federation"}, status=422)
    try:
        issued = create_token(
            db,
            owner,
            created_by=g.user,
            name=request.form.get("name", ""),
            role=request.form.get("role") or None,
            days=int(days_text),
        )
    except TokenRefused as refused:
        return _page(errors={refused.field: refused.message}, status=422)
    db.commit()
    return _page(secret=issued.secret)


@bp.post("/<int:token_id>/revoke")
def revoke_token(token_id: int):
    db = get_db()
    token = db.get(ApiToken, token_id)
    if token is None or token.federation_id != g.federation.id:
        abort(404)
    if token.user_id != g.user.id and not g.user.may("admin"):
        abort(404)
    revoke(token)
    db.commit()
    flash(f"Token …{token.token_hint} revoked: it no longer works.", "success")
    return redirect(url_for(".index"))

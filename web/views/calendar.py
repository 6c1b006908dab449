"""Calendar feeds in the web app: the coordinators' "Calendar links" page and the link-holder's
feed and "My calendar" page.

A clinician has no login: a coordinator (or manager) makes the clinician's private link on the
Calendar links page, sees it once and sends it to them. The link opens "My calendar"
(`/feeds/<token>`, no login) with the subscribe buttons, a QR code and the next sessions; the
calendar app itself fetches `/feeds/<token>.ics`. Links for a hub, a practice and the whole
federation work the same way. The token in these two URLs is the only key: they are the one
exception to logging in (web.views.auth.PUBLIC_ENDPOINTS), and answer 404 without a valid token.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from werkzeug.http import is_resource_modified

from scheduler.io import ical
from scheduler.io.feeds import LONDON
from web.db import get_db
from web.models import Federation, FeedLink
from web.security import id_of
from web.services import clinician_page
from web.services import feed_links as feedstore
from web.services.cells import safe_cell
from web.services.labels import people
from web.services.problems import current_dataset, loaded
from web.views.auth import federation_blueprint, role_required
from web.views.paging import matches, paginate

bp = federation_blueprint("calendar", __name__, "/calendar")
feeds_bp = Blueprint("feeds", __name__, url_prefix="/feeds")

# The token pages: no login (see web.views.auth), never cached, never indexed, never sent on as a
# Referer to another site.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
KIND_TITLES = {
    "clinician": "Clinicians",
    "hub": "Hubs",
    "practice": "Practices",
    "all": "The whole federation",
}
UPCOMING = 6


def init_app(app) -> None:
    feedstore.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(feeds_bp)


# ---- the link-holder's pages (no login: the token is the key) ---------------------------


def _link_or_abort(token: str) -> FeedLink:
    """The token's active link. A revoked or replaced token answers 404 and counts for nothing;
    an unknown one counts as a failure of this address, and past the limit answers 429."""
    db = get_db()
    link = feedstore.find_link(db, token)
    if link is not None:
        return link
    if feedstore.is_retired(db, token):
        abort(404)
    ip = request.remote_addr or "-"
    wait = feedstore.retry_after(db, ip)
    if wait:
        raise TooManyRequests(retry_after=wait)
    feedstore.record_failure(db, ip)
    abort(404)


@feeds_bp.get("/<token>.ics")
def feed(token: str):
    """The calendar file a calendar app subscribes to: strong ETag, 304 when unchanged."""
    db = get_db()
    link = _link_or_abort(token)
    stored = feedstore.served_feed(db, db.get(Federation, link.federation_id), link)
    feedstore.note_fetch(db, link)
    last_modified = stored.updated_at.replace(tzinfo=UTC)
    if not is_resource_modified(request.environ, etag=stored.etag, last_modified=last_modified):
        response = Response(status=304)
    else:
        response = Response(stored.data, content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response.set_etag(stored.etag)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@feeds_bp.get("/<token>")
def mine(token: str):
    """My calendar: how to subscribe to the link, a QR code to open it on a phone, and the
    next sessions in it."""
    db = get_db()
    link = _link_or_abort(token)
    federation = db.get(Federation, link.federation_id)
    stored = feedstore.served_feed(db, federation, link)
    calendar = ical.read(stored.data)
    now = datetime.now(UTC)
    upcoming = sorted(
        (e for e in (calendar.events if calendar else ()) if e.content.end >= now),
        key=lambda e: e.content.start,
    )
    urls = subscribe_urls(token, calendar.name if calendar else "Hub sessions")
    html = render_template(
        "calendar/mine.html",
        link=link,
        owner=federation,
        urls=urls,
        name=calendar.name if calendar else "",
        qr=qr_svg(urls["page"]),
        upcoming=[_shown(e) for e in upcoming[:UPCOMING]],
        more=max(0, len(upcoming) - UPCOMING),
        updated_at=stored.updated_at,
        me=clinician_page.panel(db, link),
        token=token,
    )
    return make_response(html, 200, PRIVATE_HEADERS)


def subscribe_urls(token: str, name: str) -> dict[str, str]:
    """The feed as https:// and webcal:// URLs, the My calendar page, and the "add by URL"
    pages of Google Calendar and Outlook.com filled in with the feed."""
    https = url_for("feeds.feed", token=token, _external=True)
    webcal = "webcal://" + https.split("://", 1)[1]
    return {
        "https": https,
        "webcal": webcal,
        "page": url_for("feeds.mine", token=token, _external=True),
        "google": "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal}),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": https, "name": name}, quote_via=quote),
    }


def _shown(event: ical.FeedEvent) -> dict[str, object]:
    start = event.content.start.astimezone(LONDON)
    end = event.content.end.astimezone(LONDON)
    return {
        "start": start,
        "end": end,
        "summary": event.content.summary,
        "location": event.content.location,
    }


def qr_svg(text: str) -> Markup:
    """A QR code of `text` as inline SVG (qrcode's SVG path factory: no image library)."""
    code = qrcode.QRCode(
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().get_image()
    svg.attrib = {
        "class": "qr",
        "viewBox": svg.get("viewBox", ""),
        "xmlns": "http://www.w3.org/2000/svg",
        "role": "img",
        "aria-label": "QR code of this page's address",
        "shape-rendering": "crispEdges",
    }  # no fixed size: the page's CSS sizes it
    return Markup(ET.tostring(svg, encoding="unicode"))


# ---- the coordinators' page ---------------------------------------------------------------


def _feeds_of(problem) -> dict[str, list[dict[str, str]]]:
    """Every feed a link can be made for, by kind: key, name and a line of detail."""
    practices = {p.code: p.name for p in problem.practices}
    return {
        "clinician": [
            {
                "key": c.clinician_id,
                "name": people(problem)(c),
                "email": c.email,
                "detail": f"{c.role}, {practices.get(c.practice_code, c.practice_code)}",
            }
            for c in sorted(problem.clinicians, key=lambda c: (c.name.casefold(), c.clinician_id))
        ],
        "hub": [
            {
                "key": h.hub_id,
                "name": h.name,
                "email": "",
                "detail": ", ".join(x for x in (h.address, h.postcode) if x),
            }
            for h in problem.hubs
        ],
        "practice": [
            {"key": p.code, "name": p.name, "email": "", "detail": p.code}
            for p in problem.practices
        ],
        "all": [
            {
                "key": "",
                "name": "All hubs",
                "email": "",
                "detail": "every session of the federation with everyone on it",
            }
        ],
    }


def _current_feeds() -> dict[str, list[dict[str, str]]]:
    dataset = current_dataset(get_db(), g.federation.id)
    if dataset is None:
        return {kind: [] for kind in feedstore.KINDS}
    return _feeds_of(loaded(dataset).problem)


def _feed_named(kind: str, key: str) -> dict[str, str] | None:
    return next((f for f in _current_feeds().get(kind, []) if f["key"] == key), None)


def _own_link(link_id: str | None) -> FeedLink:
    """A link of the user's federation, else 404 (another federation's ids do not exist here)."""
    number = id_of(link_id)
    link = get_db().get(FeedLink, number) if number is not None else None
    if link is None or link.federation_id != g.federation.id:
        abort(404)
    return link


PAGE_ARGS = {"clinician": "page", "hub": "hub_page", "practice": "practice_page", "all": "all"}


@bp.get("/")
@role_required("coordinator")
def index():
    """The feeds a link can be made for, a page of each kind at a time, narrowed by a search
    (name, ID, email or detail)."""
    feeds = _current_feeds()
    links = {
        (link.kind, link.key): link
        for link in get_db().scalars(
            select(FeedLink).where(FeedLink.federation_id == g.federation.id)
        )
    }
    known = {(kind, f["key"]) for kind, items in feeds.items() for f in items}
    gone = sorted(
        (link for k, link in links.items() if k not in known and link.active),
        key=lambda link: (link.kind, link.key),
    )
    query = request.args.get("q", "").strip()
    pages = {
        kind: paginate(
            [f for f in items if matches(query, f["name"], f["key"], f["email"], f["detail"])],
            PAGE_ARGS[kind],
        )
        for kind, items in feeds.items()
    }
    without = sum(1 for f in feeds["clinician"] if ("clinician", f["key"]) not in links)
    return render_template(
        "calendar/links.html",
        feeds=feeds,
        pages=pages,
        links=links,
        gone=gone,
        titles=KIND_TITLES,
        q=query,
        without=without,
    )


@bp.post("/links/everyone")
@role_required("coordinator")
def create_for_everyone():
    """A link for every clinician who never had one (revoked links stay revoked), handed over
    once as a CSV file for a mail merge: name, email and the two addresses."""
    db = get_db()
    had = set(
        db.scalars(
            select(FeedLink.key).where(
                FeedLink.federation_id == g.federation.id, FeedLink.kind == "clinician"
            )
        )
    )
    made = []
    for feed in _current_feeds()["clinician"]:
        if feed["key"] in had:
            continue
        _link, token = feedstore.issue(db, g.federation.id, "clinician", feed["key"], g.user.id)
        made.append((feed, token))
    if not made:
        flash("Every clinician has a link already (or had one that was revoked).", "info")
        return redirect(url_for("calendar.index"))
    db.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["clinician_id", "name", "email", "my_calendar_page", "calendar_feed"])
    for feed, token in made:
        urls = subscribe_urls(token, feed["name"])
        writer.writerow(
            [safe_cell(v) for v in (feed["key"], feed["name"], feed["email"])]
            + [urls["page"], urls["https"]]
        )
    response = make_response(buffer.getvalue(), 200, PRIVATE_HEADERS)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="calendar-links-{g.federation.slug}.csv"'
    )
    return response


@bp.post("/links")
@role_required("coordinator")
def create():
    kind, key = request.form.get("kind", ""), request.form.get("key", "")
    feed = _feed_named(kind, key)
    if feed is None:
        abort(404)
    db = get_db()
    existing = db.scalar(
        select(FeedLink).where(
            FeedLink.federation_id == g.federation.id, FeedLink.kind == kind, FeedLink.key == key
        )
    )
    if existing is not None and existing.active:
        flash(
            f"{feed['name']} already has a link (…{existing.token_hint}). Use “New link” to "
            "replace it.",
            "warning",
        )
        return redirect(url_for("calendar.index"))
    link, token = feedstore.issue(db, g.federation.id, kind, key, g.user.id)
    db.commit()
    return _issued(link, token, feed, replaced=False)


@bp.post("/links/rotate")
@role_required("coordinator")
def rotate():
    link = _own_link(request.form.get("link_id"))
    if request.form.get("generation") != str(link.generation):
        flash("That link was changed meanwhile (sent twice?): nothing more was changed.", "warning")
        return redirect(url_for("calendar.index"))
    feed = _feed_named(link.kind, link.key) or {"name": f"{link.kind} {link.key}", "email": ""}
    db = get_db()
    link, token = feedstore.issue(db, g.federation.id, link.kind, link.key, g.user.id)
    db.commit()
    return _issued(link, token, feed, replaced=True)


@bp.post("/links/revoke")
@role_required("coordinator")
def revoke():
    link = _own_link(request.form.get("link_id"))
    if link.active:
        hint = link.token_hint
        feedstore.revoke(get_db(), link)
        get_db().commit()
        flash(
            f"Link …{hint} revoked: it now answers “not found”. Sessions a calendar already "
            "copied stay there until its owner removes the subscription.",
            "success",
        )
    return redirect(url_for("calendar.index"))


def _issued(link: FeedLink, token: str, feed: dict[str, str], replaced: bool):
    """The new link, shown this once: only its hash is kept."""
    urls = subscribe_urls(token, feed["name"])
    mail = ""
    if link.kind == "clinician" and feed.get("email"):
        body = (
            f"Your private calendar link for hub sessions:\n\n{urls['page']}\n\n"
            "Open it on your phone or computer and press Subscribe. Keep it to yourself: "
            "anyone with the link sees your sessions."
        )
        mail = f"mailto:{quote(feed['email'], safe='@')}?" + urlencode(
            {"subject": "Your hub sessions calendar", "body": body}, quote_via=quote
        )
    html = render_template(
        "calendar/issued.html",
        link=link,
        feed=feed,
        urls=urls,
        mail=mail,
        replaced=replaced,
        title=KIND_TITLES[link.kind],
    )
    return make_response(html, 200, PRIVATE_HEADERS)

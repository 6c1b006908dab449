"""Private calendar links and the feeds they serve: tokens, stored builds, rate limit, log masking.

- A link's token is 256 random bits from `secrets`, shown once; the database keeps only its
  SHA-256 (looked up by hash, then compared with hmac.compare_digest) and its last 4 characters.
  One link per feed: a new token replaces the old one, revoking clears it.
- The feeds are built by scheduler.io.feeds.build_feeds and kept per federation and file name.
  They are rebuilt only when the rota behind them, its data or the window of dates changes
  (web.services.feed_source names the rota); the stored bytes are the `previous` of the next
  build, so unchanged events stay byte for byte and changed ones get the next SEQUENCE. Serving
  is a look-up plus bytes.
- A valid token is always served. A revoked or replaced token (its hash is kept in
  retired_feed_token) answers 404 at the cost of one look-up and counts for nothing: calendar
  apps keep polling old links. Only unknown tokens count as failures per client address; past
  the limit further unknown tokens from that address answer 429, with Retry-After, until the
  window passes.
- The UID secret is `HUBROTA_FEED_SECRET` (config FEED_SECRET), else one made once and kept in
  the database, so every process and restart gives the same UIDs.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as DbSession

from scheduler.io import ical
from scheduler.io.feeds import (
    MIN_SECRET_CHARS,
    PREFIX,
    Scope,
    build_feeds,
    calendar_uid,
    placeholder_uid,
    window_start_for,
)
from web.models import (
    Federation,
    FeedBuild,
    FeedFile,
    FeedLink,
    FeedLookupFailure,
    InstallationSecret,
    RetiredFeedToken,
    utcnow,
)
from web.services import sealed
from web.services.feed_source import feed_source_key, rota_for_feeds

KINDS = ("clinician", "hub", "practice", "all")
TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
HINT_CHARS = 4
SECRET_NAME = "feed_secret"
LOCKS_EXTENSION = "hubrota.feed_builds"
FETCH_NOTE_EVERY = timedelta(hours=1)  # how often a link's "last fetched" is written


# ---- tokens -----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return sha256(token.encode("utf-8")).hexdigest()


def issue(
    db: DbSession, federation_id: int, kind: str, key: str, user_id: int | None
) -> tuple[FeedLink, str]:
    """A new token for the feed (kind, key): the feed's link row gets it, replacing (and so
    invalidating) any token it had. Returns the row and the token, which is not kept."""
    if kind not in KINDS or (kind == "all") != (key == ""):
        raise ValueError(f"no such feed: {kind} {key!r}")
    link = db.scalar(
        select(FeedLink).where(
            FeedLink.federation_id == federation_id, FeedLink.kind == kind, FeedLink.key == key
        )
    )
    if link is None:
        link = FeedLink(federation_id=federation_id, kind=kind, key=key, generation=0)
        db.add(link)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    _retire(db, link.token_hash)
    link.token_hash = hash_token(token)
    link.token_hint = token[-HINT_CHARS:]
    link.token_sealed = sealed.seal(token)
    link.generation = (link.generation or 0) + 1
    link.issued_at = utcnow()
    link.issued_by_id = user_id
    link.revoked_at = None
    link.last_fetched_at = None
    return link, token


def revoke(db: DbSession, link: FeedLink) -> None:
    _retire(db, link.token_hash)
    link.token_hash = None
    link.token_sealed = None
    link.revoked_at = utcnow()


def _retire(db: DbSession, token_hash: str | None) -> None:
    if token_hash is not None and db.get(RetiredFeedToken, token_hash) is None:
        db.add(RetiredFeedToken(token_hash=token_hash))


def is_retired(db: DbSession, token: str) -> bool:
    """Whether `token` was a link's once (revoked or replaced since)."""
    return TOKEN_SHAPE.fullmatch(token) is not None and (
        db.get(RetiredFeedToken, hash_token(token)) is not None
    )


def find_link(db: DbSession, token: str) -> FeedLink | None:
    """The active link of a token, or None."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    hashed = hash_token(token)
    link = db.scalar(select(FeedLink).where(FeedLink.token_hash == hashed))
    if link is None or link.token_hash is None:
        return None
    return link if hmac.compare_digest(link.token_hash, hashed) else None


def note_fetch(db: DbSession, link: FeedLink) -> None:
    """Remember that a calendar fetched the link (at most once an hour: serving stays cheap)."""
    now = utcnow()
    if link.last_fetched_at is None or now - link.last_fetched_at >= FETCH_NOTE_EVERY:
        link.last_fetched_at = now
        try:
            db.commit()
        except OperationalError:  # a busy database: the note can wait for the next fetch
            db.rollback()


# ---- failed look-ups --------------------------------------------------------------------


def _window_start() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["FEED_FAILURE_WINDOW_SECONDS"])


def retry_after(db: DbSession, ip: str) -> int:
    """0 while the address may try unknown tokens; else whole seconds until its oldest failure
    in the window leaves it, and it may again."""
    window = timedelta(seconds=current_app.config["FEED_FAILURE_WINDOW_SECONDS"])
    since = utcnow() - window
    recent = (FeedLookupFailure.ip == ip[:64], FeedLookupFailure.at >= since)
    count = db.scalar(select(func.count(FeedLookupFailure.id)).where(*recent)) or 0
    limit = current_app.config["FEED_MAX_FAILURES_PER_IP"]
    if count < limit:
        return 0
    # the failure whose leaving brings the count under the limit
    freeing = db.scalar(
        select(FeedLookupFailure.at)
        .where(*recent)
        .order_by(FeedLookupFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if freeing is None:
        return 1
    return max(1, math.ceil((freeing + window - utcnow()).total_seconds()))


def record_failure(db: DbSession, ip: str) -> None:
    db.execute(delete(FeedLookupFailure).where(FeedLookupFailure.at < _window_start()))
    db.add(FeedLookupFailure(ip=ip[:64]))
    db.commit()


# ---- the UID secret ---------------------------------------------------------------------


def feed_secret(db: DbSession) -> bytes:
    configured = str(current_app.config.get("FEED_SECRET") or "").strip()
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"HUBROTA_FEED_SECRET needs at least {MIN_SECRET_CHARS} characters")
        return configured.encode("utf-8")
    row = db.get(InstallationSecret, SECRET_NAME)
    if row is None:
        try:
            db.add(InstallationSecret(name=SECRET_NAME, value=secrets.token_hex(32)))
            db.commit()
        except IntegrityError:  # another process made it first: use theirs
            db.rollback()
        row = db.get(InstallationSecret, SECRET_NAME)
    assert row is not None
    return row.value.encode("utf-8")


# ---- stored feeds -----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFeed:
    data: bytes
    etag: str  # SHA-256 of data: identical bytes, identical ETag
    updated_at: datetime  # naive UTC, when the bytes last changed


def filename_of(link: FeedLink) -> str:
    return Scope(link.kind, link.key).filename


def served_feed(
    db: DbSession, federation: Federation, link: FeedLink, now: datetime | None = None
) -> StoredFeed:
    """What the link's subscribers get: its feed as last built from the federation's feed
    rota (rebuilt first if that changed), or an empty calendar while there is none."""
    found = stored_feed(db, federation, filename_of(link), now)
    if found is not None:
        return found
    return _empty_feed(feed_secret(db), link)


def stored_feed(
    db: DbSession, federation: Federation, filename: str, now: datetime | None = None
) -> StoredFeed | None:
    now = datetime.now(UTC) if now is None else now
    source = feed_source_key(db, federation)
    if source is None:
        return None
    key = f"{source} from {window_start_for(now).isoformat()}"
    build = db.scalar(select(FeedBuild).where(FeedBuild.federation_id == federation.id))
    if build is None or build.source_key != key:
        built = rebuild(db, federation, key, now)
        if built is not None:
            return built.get(filename)
    row = db.scalar(
        select(FeedFile).where(
            FeedFile.federation_id == federation.id, FeedFile.filename == filename
        )
    )
    return StoredFeed(row.data, row.etag, row.updated_at) if row is not None else None


def rebuild(
    db: DbSession, federation: Federation, key: str, now: datetime
) -> dict[str, StoredFeed] | None:
    """Build every feed of the federation from the feeds' rota with the stored ones as
    `previous`, store what changed and remember `key`. None when another request has just
    built the same (the stored files are then current) or there is no rota."""
    with _build_lock(federation.id):  # this process's requests wait for one build
        return _rebuild(db, federation, key, now)


def _build_lock(federation_id: int) -> threading.Lock:
    locks: _BuildLocks = current_app.extensions[LOCKS_EXTENSION]
    with locks.guard:
        return locks.by_federation[federation_id]


class _BuildLocks:
    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.by_federation: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def _rebuild(
    db: DbSession, federation: Federation, key: str, now: datetime
) -> dict[str, StoredFeed] | None:
    secret = feed_secret(db)
    build = db.scalar(
        select(FeedBuild)
        .where(FeedBuild.federation_id == federation.id)
        .with_for_update()  # PostgreSQL: one rebuild at a time per federation
        .execution_options(populate_existing=True)
    )
    if build is not None and build.source_key == key:
        db.commit()
        return None
    source = rota_for_feeds(db, federation)
    if source is None:
        db.rollback()
        return None
    problem, rota = source
    stored = {
        f.filename: f
        for f in db.scalars(select(FeedFile).where(FeedFile.federation_id == federation.id))
    }
    built = build_feeds(
        problem,
        rota,
        secret=secret,
        previous={name: f.data for name, f in stored.items()},
        changed_at=now,
        window_start=window_start_for(now),
    )
    changed_at = now.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    out: dict[str, StoredFeed] = {}
    for filename, data in built.items():
        row = stored.get(filename)
        if row is None:
            row = FeedFile(federation_id=federation.id, filename=filename)
            db.add(row)
        if row.data != data:
            row.data, row.etag, row.updated_at = data, sha256(data).hexdigest(), changed_at
        out[filename] = StoredFeed(row.data, row.etag, row.updated_at)
    if build is None:
        build = FeedBuild(federation_id=federation.id)
        db.add(build)
    build.source_key, build.built_at = key, changed_at
    try:
        db.commit()
    except (IntegrityError, OperationalError):
        # Another request stored the same build at the same moment (SQLite, or the first
        # build of a federation): serve what was built here; the stored one serves next time.
        db.rollback()
    return out


def _empty_feed(secret: bytes, link: FeedLink) -> StoredFeed:
    """A valid calendar with no events, for a link whose feed has nothing to show yet."""
    scope = Scope(link.kind, link.key)
    issued = link.issued_at.replace(tzinfo=UTC, microsecond=0)
    name = "Hub sessions" if link.kind == "clinician" else PREFIX
    data = ical.render(
        ical.CalendarText(
            uid=calendar_uid(secret, scope),
            name=name,
            events=(),
            placeholder=ical.Placeholder(placeholder_uid(secret, scope), issued),
        )
    )
    return StoredFeed(data, sha256(data).hexdigest(), link.issued_at.replace(microsecond=0))


# ---- logs -------------------------------------------------------------------------------

_FEED_PATH = re.compile(r"(/feeds/)[^\s/?\"'.]+")


def mask(text: str) -> str:
    """A request line or message with any feed token replaced: tokens are passwords."""
    return _FEED_PATH.sub(r"\1[token]", text)


class MaskFeedTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        return True


def init_app(app: Flask) -> None:
    """Mask feed tokens in Werkzeug's request log and the app's own log; one feed build at a
    time per federation in this process."""
    app.extensions[LOCKS_EXTENSION] = _BuildLocks()
    for logger in (logging.getLogger("werkzeug"), app.logger):
        if not any(isinstance(f, MaskFeedTokens) for f in logger.filters):
            logger.addFilter(MaskFeedTokens())

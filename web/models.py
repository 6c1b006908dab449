"""Tables: federations, their users, versioned input datasets, rotas and optimiser jobs.

Every row that holds a federation's data carries `federation_id`; every query of a page filters
on it, so federations side by side never see each other's data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduler.domain import Assignment

ROLES = ("coordinator", "manager", "admin")  # each may do what the ones before it may


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no time zone, so every stored time is UTC by convention."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Federation(Base):
    __tablename__ = "federation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_limit_seconds: Mapped[int] = mapped_column(Integer, default=20)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # a session given away that breaks no hard rule is published without a coordinator
    swap_auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    federation: Mapped[Federation] = relationship(lazy="joined")

    def may(self, role: str) -> bool:
        """Roles are ranked: a manager may do a coordinator's work, an admin a manager's."""
        return ROLES.index(self.role) >= ROLES.index(role)


class LoginAttempt(Base):
    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginSession(Base):
    """One logged-in browser: the cookie holds a random key whose SHA-256 is `key_hash`.
    Logging out deletes the row; a password change or deactivation deletes all of the user's
    rows, so a copy of an old cookie opens nothing. Idle and absolute limits are checked
    against `last_seen_at` and `created_at` (web.services.login_sessions)."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class UploadLock(Base):
    """A user's upload being read and checked: one at a time per user (web.services.upload_files).
    A row older than the lock's lifetime is a crashed request's and is taken over."""

    __tablename__ = "upload_lock"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Dataset(Base):
    """One version of a federation's input files (CSV text and rota.toml), kept whole.

    A draft is an upload waiting for its preview to be confirmed; saving gives it the next
    version number, and the highest version is the federation's current data.
    """

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("federation_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: a draft
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    labels: Mapped[str] = mapped_column(Text, default="{}")  # JSON: file → name shown in messages

    files: Mapped[list[DatasetFile]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="DatasetFile.name"
    )
    created_by: Mapped[User | None] = relationship()

    def texts(self) -> dict[str, str]:
        return {f.name: f.content for f in self.files}


class DatasetFile(Base):
    __tablename__ = "dataset_file"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))  # "clinicians.csv", "rota.toml"
    content: Mapped[str] = mapped_column(Text)

    dataset: Mapped[Dataset] = relationship(back_populates="files")


class Rota(Base):
    """An allocation; the newest of a federation is its current rota. Hand edits change it in
    place and bump `revision`."""

    __tablename__ = "rota"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="optimiser")
    status: Mapped[str] = mapped_column(String(20), default="")  # the solver's
    objective: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bound: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)

    assignments: Mapped[list[RotaAssignment]] = relationship(
        back_populates="rota", cascade="all, delete-orphan"
    )
    dataset: Mapped[Dataset] = relationship()
    created_by: Mapped[User | None] = relationship()


class RotaAssignment(Base):
    __tablename__ = "rota_assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rota_id: Mapped[int] = mapped_column(ForeignKey("rota.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(120))
    post_index: Mapped[int] = mapped_column(Integer)
    clinician_id: Mapped[str] = mapped_column(String(120))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    rota: Mapped[Rota] = relationship(back_populates="assignments")

    @classmethod
    def of(cls, a: Assignment) -> RotaAssignment:
        """The row holding the engine's assignment `a`."""
        return cls(
            session_id=a.session_id,
            post_index=a.post_index,
            clinician_id=a.clinician_id,
            locked=a.locked,
        )


class RotaEdit(Base):
    """What was changed by hand, by whom: the rota's audit trail."""

    __tablename__ = "rota_edit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rota_id: Mapped[int] = mapped_column(ForeignKey("rota.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship()


class Job(Base):
    """A background optimiser run."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|done|failed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    time_limit_seconds: Mapped[int] = mapped_column(Integer, default=20)
    message: Mapped[str] = mapped_column(Text, default="")
    rota_id: Mapped[int | None] = mapped_column(ForeignKey("rota.id"), nullable=True)
    # Background runs (web.services.jobs): what kind, which rota period, where it runs, live
    # progress.
    kind: Mapped[str] = mapped_column(String(20), default="optimise")  # optimise | absence
    period: Mapped[str] = mapped_column(String(40), default="")  # "2027-03-01..2027-03-14"
    # "federation:period" while queued or running, else NULL: the unique index refuses a
    # second run of one period, in every process and on every database
    active_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    backend: Mapped[str] = mapped_column(String(10), default="thread")  # thread | rq
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    progress: Mapped[str] = mapped_column(
        Text, default=""
    )  # JSON, see web.services.jobs.ProgressLog
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON: what the run was asked to do

    user: Mapped[User | None] = relationship()
    rota: Mapped[Rota | None] = relationship()


# ---- calendar feeds (web.services.feed_links) ---------------------------------------------


class FeedLink(Base):
    """A private subscription link to one feed of a federation: a clinician's, a hub's, a
    practice's or the federation's all-hubs feed (kind 'all', key '').

    One row per feed: rotating replaces the token, revoking clears it. Only the SHA-256 of the
    token is kept (`token_hash`, NULL once revoked) and its last characters, to tell links apart.
    """

    __tablename__ = "feed_link"
    __table_args__ = (UniqueConstraint("federation_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"))
    kind: Mapped[str] = mapped_column(String(20))  # clinician | hub | practice | all
    key: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_hint: Mapped[str] = mapped_column(String(8), default="")  # the token's last 4 chars
    generation: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every new token
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The token encrypted with the app's secret key (web.services.sealed), so mail can carry a
    # clinician's link; NULL once revoked. Without the secret key it reveals nothing.
    token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)

    issued_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.token_hash is not None


class FeedFile(Base):
    """The last bytes built of one feed file: served as they are, and the `previous` of the
    next build, so SEQUENCE and LAST-MODIFIED carry forward across re-solves."""

    __tablename__ = "feed_file"
    __table_args__ = (UniqueConstraint("federation_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"))
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))  # SHA-256 of data, hex
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeedBuild(Base):
    """Which rota (and window of dates) a federation's stored feed files were built from."""

    __tablename__ = "feed_build"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), unique=True)
    source_key: Mapped[str] = mapped_column(String(200))
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeedLookupFailure(Base):
    """A request with an unknown or revoked feed token: counted per client address to rate
    limit guessing. The token itself is never stored."""

    __tablename__ = "feed_lookup_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class RetiredFeedToken(Base):
    """The SHA-256 of a feed token that was revoked or replaced: calendar apps keep polling old
    links, which answer 410 without counting as a guess (web.services.feed_links)."""

    __tablename__ = "retired_feed_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InstallationSecret(Base):
    """Secrets made once per installation and kept with the data (e.g. the feed secret behind
    every calendar UID), so every process and restart shares them."""

    __tablename__ = "installation_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# ---- absences, published versions and the audit log ---------------------------------------
# (web.views.absence, web.views.publish, web.views.audit)


class Absence(Base):
    """A clinician away from `first_day` to `last_day` inclusive, recorded by a coordinator or
    manager: every later run treats those days as unavailable
    (scheduler.solver.rerun.with_absences)."""

    __tablename__ = "absence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    clinician_id: Mapped[str] = mapped_column(String(120))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), nullable=True)

    created_by: Mapped[User | None] = relationship()


class PublishedVersion(Base):
    """A rota as published: numbered per federation, never changed once written (who, when,
    why, and its own copy of the assignments, since a rota row takes hand edits)."""

    __tablename__ = "published_version"
    __table_args__ = (UniqueConstraint("federation_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    rota_id: Mapped[int | None] = mapped_column(ForeignKey("rota.id"), nullable=True)
    rota_revision: Mapped[int] = mapped_column(Integer, default=0)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")  # why

    assignments: Mapped[list[PublishedAssignment]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="PublishedAssignment.id"
    )
    dataset: Mapped[Dataset] = relationship()
    published_by: Mapped[User | None] = relationship()


class PublishedAssignment(Base):
    __tablename__ = "published_assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("published_version.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(120))
    post_index: Mapped[int] = mapped_column(Integer)
    clinician_id: Mapped[str] = mapped_column(String(120))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    version: Mapped[PublishedVersion] = relationship(back_populates="assignments")


class AuditEvent(Base):
    """One line of a federation's audit log: uploads, pins and other hand edits, runs,
    absences and publishes, by whom and when."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship()


# ---- clinicians taking part: mail, their own settings, leave (web.services.mail, .leave) --


class MailMessage(Base):
    """One e-mail to one person, kept as sent (or as it would have been sent): the outbox.

    status: `held` (no SMTP server configured: kept for the outbox page only), `queued`,
    `sending`, `sent`, `failed` (gave up: a permanent refusal or too many temporary ones).
    """

    __tablename__ = "mail_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    clinician_id: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(30))  # publish | leave | links
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ClinicianSetting(Base):
    """What a clinician chose on their own page (today: no e-mail, please)."""

    __tablename__ = "clinician_setting"
    __table_args__ = (UniqueConstraint("federation_id", "clinician_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"))
    clinician_id: Mapped[str] = mapped_column(String(120))
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LeaveRequest(Base):
    """Days away a clinician asked for from their private link; a coordinator or manager
    decides. Approval records an Absence (`absence_id`).

    status: `pending`, `approved`, `declined`, `withdrawn`.
    """

    __tablename__ = "leave_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    clinician_id: Mapped[str] = mapped_column(String(120))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    absence_id: Mapped[int | None] = mapped_column(ForeignKey("absence.id"), nullable=True)

    decided_by: Mapped[User | None] = relationship()


class SwapOffer(Base):
    """A clinician offers one of their published sessions (their post on it) to colleagues;
    the colleagues who could take it without breaking a hard rule see it (web.services.eligible)
    and take it as it is (a give-away) or give one of theirs in return (a swap).

    status: `open` → `accepted` (a colleague took it; `taken_by`) → `approved` (published as
    version `result_version`) or `declined`; or `withdrawn` by the clinician while open.
    Each step is a conditional UPDATE from the status before it: one acceptance wins.
    """

    __tablename__ = "swap_offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)  # the published version offered from
    session_id: Mapped[str] = mapped_column(String(120))
    post_index: Mapped[int] = mapped_column(Integer)
    clinician_id: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # a swap: the taker's own session (their post on it) that the giver takes in return
    return_session_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    return_post_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    result_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    decided_by: Mapped[User | None] = relationship()


class AvailabilityRequest(Base):
    """A coordinator asks every clinician for their availability over a period; replies are
    taken from their private links until `closes_on` (inclusive, UK date), then turned into
    the next data version through the upload preview (`applied_version`).

    status: `open`, `applied`, `cancelled`.
    """

    __tablename__ = "availability_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    applied_draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    created_by: Mapped[User | None] = relationship()


class AvailabilityResponse(Base):
    """One clinician's reply to a request: a letter per session day (A, P or U), a note, the
    hubs they prefer and the most sessions they want; replaced whole on each change."""

    __tablename__ = "availability_response"
    __table_args__ = (UniqueConstraint("request_id", "clinician_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("availability_request.id", ondelete="CASCADE"), index=True
    )
    clinician_id: Mapped[str] = mapped_column(String(120))
    days: Mapped[str] = mapped_column(Text, default="{}")  # JSON: "2027-03-01" → "A" | "P" | "U"
    note: Mapped[str] = mapped_column(String(500), default="")
    preferred_hubs: Mapped[str] = mapped_column(String(500), default="")  # hub_ids, ";"-separated
    max_sessions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# ---- personal access tokens of the JSON API (web.services.tokens, web.api) ------------------


class ApiToken(Base):
    """A personal access token: a user's key to the JSON API, with a role no higher than the
    user's and an expiry. Only the SHA-256 of the secret is kept (`token_hash`) and its last
    characters, to tell tokens apart; revoking stamps `revoked_at`."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active

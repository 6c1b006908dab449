"""runs progress, absences, published versions, audit log

Revision ID: 0003_runs
Revises: 0002_feeds
Create Date: 2026-11-23 19:36:34.548368
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_runs"
down_revision = "0002_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_audit_log()
    _create_published_versions()
    _create_absences()
    _create_published_assignments()
    _add_job_progress()


def _create_audit_log() -> None:
    """The audit log of who did what."""
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_audit_event_federation_id_federation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_audit_event_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_federation_id"), ["federation_id"], unique=False
        )


def _create_published_versions() -> None:
    """Numbered published versions of a federation's rota."""
    op.create_table(
        "published_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rota_id", sa.Integer(), nullable=True),
        sa.Column("rota_revision", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_published_version_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_published_version_federation_id_federation"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["app_user.id"],
            name=op.f("fk_published_version_published_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rota.id"], name=op.f("fk_published_version_rota_id_rota")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_version")),
        sa.UniqueConstraint(
            "federation_id", "number", name=op.f("uq_published_version_federation_id")
        ),
    )
    with op.batch_alter_table("published_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_version_federation_id"), ["federation_id"], unique=False
        )


def _create_absences() -> None:
    """Recorded absences and the re-run jobs they start."""
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_absence_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["federation_id"], ["federation.id"], name=op.f("fk_absence_federation_id_federation")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_absence_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence")),
    )
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_absence_federation_id"), ["federation_id"], unique=False
        )


def _create_published_assignments() -> None:
    """The assignments of each published version."""
    op.create_table(
        "published_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=120), nullable=False),
        sa.Column("post_index", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["published_version.id"],
            name=op.f("fk_published_assignment_version_id_published_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_assignment")),
    )
    with op.batch_alter_table("published_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_assignment_version_id"), ["version_id"], unique=False
        )


def _add_job_progress() -> None:
    """Run kind, period, backend, cancellation and progress on jobs."""
    # existing jobs get defaults, so the new NOT NULL columns can be added to a filled table
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="optimise")
        )
        batch_op.add_column(
            sa.Column("period", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("active_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("backend", sa.String(length=10), nullable=False, server_default="thread")
        )
        batch_op.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("progress", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default=""))
        batch_op.create_unique_constraint(batch_op.f("uq_job_active_key"), ["active_key"])


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_job_active_key"), type_="unique")
        batch_op.drop_column("detail")
        batch_op.drop_column("progress")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("cancel_requested")
        batch_op.drop_column("backend")
        batch_op.drop_column("active_key")
        batch_op.drop_column("period")
        batch_op.drop_column("kind")

    with op.batch_alter_table("published_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_assignment_version_id"))

    op.drop_table("published_assignment")
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absence_federation_id"))

    op.drop_table("absence")
    with op.batch_alter_table("published_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_version_federation_id"))

    op.drop_table("published_version")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_federation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")

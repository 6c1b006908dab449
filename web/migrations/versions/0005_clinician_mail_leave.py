"""clinicians taking part: mail outbox, settings, leave, swap offers, availability requests

Revision ID: 0005_clinicians
Revises: 0004_hardening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_clinicians"
down_revision = "0004_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_link") as batch:
        batch.add_column(sa.Column("token_sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("federation") as batch:
        batch.add_column(
            sa.Column("swap_auto_approve", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "swap_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=120), nullable=False),
        sa.Column("post_index", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("taken_by", sa.String(length=120), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("return_session_id", sa.String(length=120), nullable=True),
        sa.Column("return_post_index", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=False),
        sa.Column("result_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_swap_offer_federation_id_federation"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["app_user.id"], name=op.f("fk_swap_offer_decided_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_offer")),
    )
    op.create_index(
        op.f("ix_swap_offer_federation_id"), "swap_offer", ["federation_id"], unique=False
    )
    op.create_table(
        "availability_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("applied_draft_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_availability_request_federation_id_federation"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_availability_request_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_request")),
    )
    op.create_index(
        op.f("ix_availability_request_federation_id"),
        "availability_request",
        ["federation_id"],
        unique=False,
    )
    op.create_table(
        "availability_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("days", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("preferred_hubs", sa.String(length=500), nullable=False),
        sa.Column("max_sessions", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["availability_request.id"],
            name=op.f("fk_availability_response_request_id_availability_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_response")),
        sa.UniqueConstraint(
            "request_id", "clinician_id", name=op.f("uq_availability_response_request_id")
        ),
    )
    op.create_index(
        op.f("ix_availability_response_request_id"),
        "availability_response",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_mail_message_federation_id_federation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    for column in ("federation_id", "status", "created_at"):
        op.create_index(op.f(f"ix_mail_message_{column}"), "mail_message", [column], unique=False)
    op.create_table(
        "clinician_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("email_opt_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_clinician_setting_federation_id_federation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_setting")),
        sa.UniqueConstraint(
            "federation_id", "clinician_id", name=op.f("uq_clinician_setting_federation_id")
        ),
    )
    op.create_table(
        "leave_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.String(length=120), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=False),
        sa.Column("absence_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_leave_request_federation_id_federation"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
            name=op.f("fk_leave_request_decided_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["absence_id"], ["absence.id"], name=op.f("fk_leave_request_absence_id_absence")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_request")),
    )
    op.create_index(
        op.f("ix_leave_request_federation_id"), "leave_request", ["federation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_availability_response_request_id"), table_name="availability_response")
    op.drop_table("availability_response")
    op.drop_index(op.f("ix_availability_request_federation_id"), table_name="availability_request")
    op.drop_table("availability_request")
    op.drop_index(op.f("ix_swap_offer_federation_id"), table_name="swap_offer")
    op.drop_table("swap_offer")
    with op.batch_alter_table("federation") as batch:
        batch.drop_column("swap_auto_approve")
    op.drop_index(op.f("ix_leave_request_federation_id"), table_name="leave_request")
    op.drop_table("leave_request")
    op.drop_table("clinician_setting")
    for column in ("created_at", "status", "federation_id"):
        op.drop_index(op.f(f"ix_mail_message_{column}"), table_name="mail_message")
    op.drop_table("mail_message")
    with op.batch_alter_table("feed_link") as batch:
        batch.drop_column("token_sealed")

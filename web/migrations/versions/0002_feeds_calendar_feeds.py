"""calendar feeds: private links, the last bytes built of each feed, failed look-ups, secrets

Revision ID: 0002_feeds
Revises: 0001
Create Date: 2026-11-23 19:27:52.795086
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_feeds"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["federation_id"], ["federation.id"], name=op.f("fk_feed_link_federation_id_federation")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["app_user.id"], name=op.f("fk_feed_link_issued_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_link")),
        sa.UniqueConstraint(
            "federation_id", "kind", "key", name=op.f("uq_feed_link_federation_id")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_link_token_hash")),
    )
    op.create_table(
        "feed_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"], ["federation.id"], name=op.f("fk_feed_file_federation_id_federation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_file")),
        sa.UniqueConstraint("federation_id", "filename", name=op.f("uq_feed_file_federation_id")),
    )
    op.create_table(
        "feed_build",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federation.id"],
            name=op.f("fk_feed_build_federation_id_federation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_build")),
        sa.UniqueConstraint("federation_id", name=op.f("uq_feed_build_federation_id")),
    )
    op.create_table(
        "feed_lookup_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_lookup_failure")),
    )
    op.create_index(op.f("ix_feed_lookup_failure_at"), "feed_lookup_failure", ["at"], unique=False)
    op.create_index(op.f("ix_feed_lookup_failure_ip"), "feed_lookup_failure", ["ip"], unique=False)
    op.create_table(
        "installation_secret",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_secret")),
    )


def downgrade() -> None:
    op.drop_table("installation_secret")
    op.drop_index(op.f("ix_feed_lookup_failure_ip"), table_name="feed_lookup_failure")
    op.drop_index(op.f("ix_feed_lookup_failure_at"), table_name="feed_lookup_failure")
    op.drop_table("feed_lookup_failure")
    op.drop_table("feed_build")
    op.drop_table("feed_file")
    op.drop_table("feed_link")

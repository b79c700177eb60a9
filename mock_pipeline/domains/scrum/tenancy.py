"""The scrum table registry and its first tables, the people and tenancy: users (the owner and five
members), the one organization and workspace, and everyone's memberships. tables.py declares the
projects and their work on top of these, so `TABLES` lists parents first.
"""

from __future__ import annotations

import base64
import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.scrum.model import ScrumModel, permuted
from mock_pipeline.domains.scrum.parameters import DOMAIN, PASSWORD_ITERATIONS
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns, Tables
from mock_pipeline.engine.pools import slug
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.engine.timeline import DAY

BOOL = pa.bool_()
EMAIL_DOMAIN = "ficct-scrum.example"  # RFC 2606 reserved: never a real mailbox
MEMBERS = 5
ORG_NAME = "FICCT Software Factory"

TABLES = Tables(DOMAIN)


def password_hash(m: ScrumModel, u: int) -> str:
    """Django's pbkdf2_sha256 format. The password is a random secret of the counter stream that
    is hashed and dropped here: it is never stored, logged or exported."""
    secret = m.stream("users", "password").sub(str(u)).bits(np.arange(4)).tobytes()
    salt = m.stream("users", "salt").sub(str(u)).bits(np.arange(2)).tobytes().hex()
    digest = hashlib.pbkdf2_hmac("sha256", secret, salt.encode(), PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${PASSWORD_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


@TABLES.table(
    key="user_id",
    slots=lambda m: 1 + MEMBERS,
    description="The owner and five team members; a PBKDF2 password hash only, left out of users.csv.",
    columns=(
        Column("user_id", INT, "Key of the user; 1 is the owner account."),
        Column("email", STRING, "Login e-mail on an RFC 2606 reserved domain (never a real mailbox)."),
        Column("username", STRING, "Login name: 'owner' for the owner, first.last for members."),
        Column("first_name", STRING, "Generated first name."),
        Column("last_name", STRING, "Generated last name."),
        Column("role", STRING, "owner (one) or member (five)."),
        Column(
            "password_hash",
            STRING,
            "PBKDF2-SHA256 hash of a random secret that is never stored; left out of users.csv.",
        ),
        Column("is_active", BOOL, "Whether the account can log in."),
        Column("date_joined", TIMESTAMP, "When the account was created, at the start of the history."),
        Column("last_login", TIMESTAMP, "Last login, in the days before as_of."),
    ),
    created="date_joined",
    export_exclude=("password_hash",),
)
def users(m: ScrumModel, lo: int, hi: int) -> Columns:
    """The owner (user 1) and five team members; names and e-mails generated, never the seed's."""
    u = ids(lo, hi)
    p = m.pools
    # Distinct first names keep the handles unique without a row counter in them.
    first = col.take(p.first_names, permuted(m.stream("users", "first"), u, len(p.first_names)))
    last = col.take(p.last_names, m.stream("users", "last").integers(u, 0, len(p.last_names)))
    handle = col.join(slug(first), ".", slug(last))
    owner = pa.array(u == 0)
    username = pc.if_else(owner, "owner", handle)
    joined = m.founded + 600 * u
    # Few users: hashing six passwords is a loop over users, not over generated rows.
    hashes = pa.array([password_hash(m, int(x)) for x in u], STRING)
    return {
        "user_id": u + 1,
        "email": col.join(username, "@", EMAIL_DOMAIN),
        "username": username,
        "first_name": first,
        "last_name": last,
        "role": pc.if_else(owner, "owner", "member"),
        "password_hash": hashes,
        "is_active": np.ones(len(u), dtype=bool),
        "date_joined": col.timestamps(joined),
        "last_login": col.timestamps(m.end - 1 - m.stream("users", "login").integers(u, 0, 3 * DAY)),
    }


@TABLES.table(
    key="organization_id",
    slots=lambda m: 1,
    description="The one organization, owned by the owner.",
    columns=(
        Column("organization_id", INT, "Key of the organization (one)."),
        Column("name", STRING, "Organization name."),
        Column("slug", STRING, "URL-safe name."),
        Column("owner_id", INT, "The owner account (users.user_id).", references="users"),
        Column("created_at", TIMESTAMP, "When the organization was created, just after its owner's account."),
    ),
)
def organizations(m: ScrumModel, lo: int, hi: int) -> Columns:
    o = ids(lo, hi)
    return {
        "organization_id": o + 1,
        "name": pa.array([ORG_NAME] * len(o), STRING),
        "slug": pa.array(["ficct-software-factory"] * len(o), STRING),
        "owner_id": np.ones(len(o), dtype=np.int64),
        "created_at": col.timestamps(m.founded + 30 + o),
    }


def _membership(
    name: str, parent: str, parent_table: str, parent_description: str, roles: tuple[str, ...]
) -> TableSpec:
    """Declare `name`: every user a member of the one `parent_table` row, with a role from `roles`."""
    key = f"{name[:-1]}_id"

    @TABLES.table(
        name=name,
        key=key,
        slots=lambda m: 1 + MEMBERS,
        description=f"Every user is a member of the {parent_table[:-1]}.",
        columns=(
            Column(key, INT, "Key of the membership."),
            Column(parent, INT, parent_description, references=parent_table),
            Column("user_id", INT, "The member (users.user_id).", references="users"),
            Column("role", STRING, "The member's role."),
            Column(
                "joined_at", TIMESTAMP, "When the user joined, after the user's account and the parent were created."
            ),
        ),
        created="joined_at",
    )
    def members(m: ScrumModel, lo: int, hi: int) -> Columns:
        u = ids(lo, hi)
        return {
            key: u + 1,
            parent: np.ones(len(u), dtype=np.int64),
            "user_id": u + 1,
            "role": pick(roles, np.minimum(u, len(roles) - 1)),
            "joined_at": col.timestamps(m.founded + 600 * u + 120),
        }

    return members


_membership(
    "organization_members",
    "organization_id",
    "organizations",
    "The organization (organizations.organization_id).",
    ("owner", "admin", "member"),
)


@TABLES.table(
    key="workspace_id",
    slots=lambda m: 1,
    description="The one workspace for projects.",
    columns=(
        Column("workspace_id", INT, "Key of the workspace (one)."),
        Column("organization_id", INT, "Its organization (organizations.organization_id).", references="organizations"),
        Column("name", STRING, "Workspace name."),
        Column("slug", STRING, "URL-safe name."),
        Column("created_by_id", INT, "Who created it (users.user_id).", references="users"),
        Column("created_at", TIMESTAMP, "When it was created, after its organization."),
    ),
)
def workspaces(m: ScrumModel, lo: int, hi: int) -> Columns:
    w = ids(lo, hi)
    return {
        "workspace_id": w + 1,
        "organization_id": np.ones(len(w), dtype=np.int64),
        "name": pa.array(["Product Development"] * len(w), STRING),
        "slug": pa.array(["product-development"] * len(w), STRING),
        "created_by_id": np.ones(len(w), dtype=np.int64),
        "created_at": col.timestamps(m.founded + 60 + w),
    }


_membership(
    "workspace_members", "workspace_id", "workspaces", "The workspace (workspaces.workspace_id).", ("admin", "member")
)

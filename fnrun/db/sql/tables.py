"""Tables of the SQL run DB: JSON document columns plus the indexed fields queries use.

Timestamps are ISO-8601 UTC strings (sortable as text on every backend). No pickles.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("created", String(40), nullable=False),
)

functions = Table(
    "functions",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("hash", String(64), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("updated", String(40), nullable=False),
)

function_tags = Table(
    "function_tags",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("tag", String(255), primary_key=True),
    Column("hash", String(64), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("uid", String(64), primary_key=True),
    Column("iteration", Integer, primary_key=True),
    Column("name", String(255), nullable=False, default=""),
    Column("state", String(32), nullable=False, default=""),
    Column("labels", JSON, nullable=False),
    Column("start_time", String(40), nullable=False, default=""),
    Column("updated", String(40), nullable=False),
    Column("body", JSON, nullable=False),
)
Index("ix_runs_project_name", runs.c.project, runs.c.name)
Index("ix_runs_updated", runs.c.updated)

artifacts = Table(
    "artifacts",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("iteration", Integer, primary_key=True),
    Column("uid", String(64), primary_key=True),
    Column("kind", String(64), nullable=False, default=""),
    Column("labels", JSON, nullable=False),
    Column("updated", String(40), nullable=False),
    Column("body", JSON, nullable=False),
)
Index("ix_artifacts_updated", artifacts.c.updated)

artifact_tags = Table(
    "artifact_tags",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("tag", String(255), primary_key=True),
    Column("uid", String(64), nullable=False),
)

logs = Table(
    "logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("uid", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
)
Index("ix_logs_run", logs.c.project, logs.c.uid, logs.c.id)

# added by schema version 2 (fnrun.db.sql.schema): schedules the service runs
schedules = Table(
    "schedules",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("next_run", String(40), nullable=False, default=""),  # "" when it never runs again
    Column("updated", String(40), nullable=False),
    Column("body", JSON, nullable=False),
)
Index("ix_schedules_next_run", schedules.c.next_run)

# added by schema version 3: the web UI's sign-in sessions (the id's SHA-256 only, so a
# reader of the DB cannot take one over; ``token_mark`` ties it to the token it was made under)
ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("token_mark", String(64), nullable=False),
    Column("expires", String(40), nullable=False),
)

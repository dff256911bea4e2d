"""The store URL: which backend, where, and where the master key file lives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.errors import ConfigurationError

DEFAULT_STORE_URL = "sqlite:///ledger.db"
STORE_ENV = "LEDGER_STORE"


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """A parsed ``--store`` URL and the library environment it selects."""

    url: str
    kind: Literal["sqlite", "postgresql"]
    env: dict[str, str] = field(default_factory=dict)
    sqlite_path: Path | None = None
    schema: str = "public"

    @property
    def default_key_dir(self) -> Path:
        """Where key files go by default: beside a SQLite file, else the current folder."""
        return self.sqlite_path.parent if self.sqlite_path is not None else Path()

    @property
    def key_file_stem(self) -> str:
        """A name for this store's key files."""
        if self.sqlite_path is not None:
            return self.sqlite_path.name
        return f"ledger-{self.env['POSTGRES_DBNAME']}-{self.schema}"

    def redacted(self) -> str:
        """The URL without a password, for messages."""
        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
        return self.url


def parse_store_url(url: str) -> StoreConfig:
    """Turn ``sqlite:///path`` or ``postgresql://user@host/db?schema=s`` into a config."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            msg = f"a SQLite store URL is sqlite:///relative/path.db or sqlite:////abs.db: {url}"
            raise ConfigurationError(msg)
        path = Path(unquote(parts.path[1:]))
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
        return StoreConfig(url, "sqlite", env, sqlite_path=path)
    if parts.scheme in {"postgresql", "postgres"}:
        dbname = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not dbname:
            msg = f"a PostgreSQL store URL is postgresql://user@host[:port]/dbname: {url}"
            raise ConfigurationError(msg)
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"schema"})
        if unknown:
            msg = f"unknown PostgreSQL store URL parameter(s): {', '.join(unknown)}"
            raise ConfigurationError(msg)
        schema = query.get("schema", ["public"])[-1]
        if not schema.replace("_", "").isalnum():
            msg = f"schema must be letters, digits and underscores: {schema!r}"
            raise ConfigurationError(msg)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        return StoreConfig(url, "postgresql", env, schema=schema)
    msg = f"unsupported store URL (use sqlite:/// or postgresql://): {url}"
    raise ConfigurationError(msg)


def ensure_postgres_schema(config: StoreConfig) -> None:
    """Create the store's PostgreSQL schema if it does not exist (``ledger init``)."""
    import psycopg  # noqa: PLC0415 - only PostgreSQL stores need the driver here
    from psycopg import sql  # noqa: PLC0415

    env = config.env
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=10,
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(config.schema))
            )
    except psycopg.OperationalError as e:
        msg = f"cannot reach PostgreSQL at {config.redacted()}: {str(e).strip()}"
        raise ConfigurationError(msg) from None

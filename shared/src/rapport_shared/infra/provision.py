"""Create the database, one login role and one schema per service; each role sees only its schema."""
from __future__ import annotations

import psycopg
from psycopg import sql

from rapport_shared.db import to_sync_url
from rapport_shared.infra.naming import SERVICES, database_url_with_name, password_of, role_of, schema_of


def _plain(url: str) -> str:
    return to_sync_url(url).replace("postgresql+psycopg://", "postgresql://")


def provision_database(admin_url: str, database: str, services: tuple[str, ...] = SERVICES) -> None:
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        for service in services:
            _ensure_role(conn, role_of(service), password_of(service))
            conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(role_of(service))))
    with psycopg.connect(_plain(database_url_with_name(admin_url, database)), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for service in services:
            role, schema = role_of(service), schema_of(service)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = {}").format(
                sql.Identifier(role), sql.Identifier(database), sql.Identifier(schema)))


def _ensure_role(conn: psycopg.Connection, role: str, password: str) -> None:
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if found else "CREATE"
    conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
        sql.Identifier(role), sql.Literal(password)))


def drop_database(admin_url: str, database: str) -> None:
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))

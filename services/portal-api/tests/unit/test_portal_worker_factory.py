"""`rapport-portal api` with several workers: each process builds its app from the environment."""
from __future__ import annotations

from fastapi import FastAPI

from rapport_portal.bootstrap import app_from_environment
from rapport_portal.config import Settings


def test_portal_worker_factory_reads_the_environment(monkeypatch):
    monkeypatch.setenv("RAPPORT_PORTAL_HTTP_WORKERS", "4")
    monkeypatch.setenv("RAPPORT_PORTAL_LOGIN_PER_EMAIL_PER_HOUR", "7")
    app = app_from_environment()
    assert isinstance(app, FastAPI) and app.title == "Rapport portal-api"
    assert [app.url_path_for(name) for name in ("invoices", "contact")] == ["/v1/invoices", "/portal/contact"]
    settings = Settings()
    assert (settings.http_workers, settings.login_per_email_per_hour) == (4, 7)

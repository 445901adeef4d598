"""Who is calling: a session from the bearer header or the cookie (the cookie also needs a CSRF token)."""
from __future__ import annotations

import hmac
from typing import TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from rapport_shared.web import ApiError

from rapport_portal.domain.errors import Unauthorized
from rapport_portal.service_layer import auth
from rapport_portal.service_layer.context import Portal, Principal

M = TypeVar("M", bound=BaseModel)
COOKIE = "rapport_portal_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_portal(request: Request) -> Portal:
    # async: a plain def dependency would cost a thread-pool hop on every request
    return request.app.state.portal


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def session_token(request: Request) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (only then is CSRF a risk)."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip(), False
    return request.cookies.get(COOKIE), True


async def principal(request: Request) -> Principal:
    # The portal straight from app state, not a sub-dependency: one dependency less to solve per request.
    token, from_cookie = session_token(request)
    if not token:
        raise Unauthorized("not signed in")
    who = await auth.authenticate(request.app.state.portal, token, client_ip(request))
    if from_cookie and request.method not in SAFE_METHODS:
        check_csrf(who, request.headers.get(CSRF_HEADER))
    return who


def check_csrf(who: Principal, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(presented, who.csrf_token):
        raise ApiError(403, "missing or wrong CSRF token", field=CSRF_HEADER)


async def require_admin(request: Request, portal: Portal = Depends(get_portal)) -> None:
    presented = request.headers.get("x-admin-token", "")
    if not hmac.compare_digest(presented.encode(), request.app.state.settings.admin_token.encode()):
        raise ApiError(401, "admin token required", field="X-Admin-Token")


def parse_query(request: Request, model: type[M]) -> M:
    """Validate a hot route's query string with one pydantic model, by hand.

    FastAPI's own query-model handling costs about twice as much per request; errors still
    come out as the usual 422 naming ``query.<field>``.
    """
    try:
        return model.model_validate(request.query_params)
    except ValidationError as exc:
        raise RequestValidationError([e | {"loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def query_parameters(model: type[BaseModel]) -> list[dict]:
    """The OpenAPI description of a query model, for routes that parse it with :func:`parse_query`."""
    schema = model.model_json_schema()
    return [{"name": name, "in": "query", "required": name in schema.get("required", ()),
             "description": prop.get("description", ""), "schema": prop}
            for name, prop in schema["properties"].items()]

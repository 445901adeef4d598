"""Sign-in: request a magic link, exchange it for a session, sign out."""
from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import JSONResponse

from rapport_portal.entrypoints.api import deps
from rapport_portal.entrypoints.api.schemas import MagicLinkBody, SessionBody
from rapport_portal.service_layer import auth, views
from rapport_portal.service_layer.auth import NewSession
from rapport_portal.service_layer.context import Portal, Principal

router = APIRouter(prefix="/v1", tags=["auth"])
LINK_SENT = {"detail": "If this address belongs to a portal contact, a sign-in link is on its way."}


def set_session_cookie(response: Response, request: Request, new: NewSession) -> None:
    # Max-Age, not Expires: relative to the browser's clock, so a skewed server clock cannot void it.
    response.set_cookie(
        deps.COOKIE, new.token, max_age=request.app.state.portal.session_ttl_minutes * 60, path="/", httponly=True,
        secure=request.url.scheme == "https", samesite="lax",
    )


@router.post("/auth/magic-link", status_code=202)
async def request_link(body: MagicLinkBody, request: Request, background: BackgroundTasks,
                       portal: Portal = Depends(deps.get_portal)) -> dict:
    """Always the same answer, in the same time, whether or not the address is known (no enumeration):
    the lookup and the sending run after the response."""
    ip = deps.client_ip(request)
    email = await auth.request_magic_link(portal, body.email, ip)
    background.add_task(auth.send_magic_links, portal, email, ip)
    return LINK_SENT


@router.post("/auth/session", status_code=201)
async def create_session(body: SessionBody, request: Request, portal: Portal = Depends(deps.get_portal)) -> JSONResponse:
    """Exchange a magic-link token (once) for a session: a bearer token, also set as an HttpOnly cookie."""
    new = await auth.exchange(portal, body.token, deps.client_ip(request))
    response = JSONResponse({
        "session_token": new.token, "csrf_token": new.csrf_token, "expires_at": new.expires_at.isoformat(),
        "tenant_id": str(new.principal.tenant_id), "customer_id": str(new.principal.customer_id),
        "contact_id": str(new.principal.contact_id),
    }, status_code=201)
    set_session_cookie(response, request, new)
    return response


@router.post("/auth/logout", status_code=204)
async def logout(who: Principal = Depends(deps.principal), portal: Portal = Depends(deps.get_portal)) -> Response:
    await auth.logout(portal, who)
    response = Response(status_code=204)
    response.delete_cookie(deps.COOKIE, path="/")
    return response


@router.get("/me")
async def me(who: Principal = Depends(deps.principal), portal: Portal = Depends(deps.get_portal)) -> dict:
    customer = await views.customer(portal, who)
    return {"tenant_id": str(who.tenant_id), "customer_id": str(who.customer_id), "contact_id": str(who.contact_id),
            "customer_name": customer["name"] if customer else None, "csrf_token": who.csrf_token}

"""Signing in and out, and the stylesheet."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ledger.console.session import COOKIE, SERVICE_REFUSED, Sessions
from ledger.console.web import ConsoleRoute, error_page, form, html, one

HOME = "/ui/subjects"
STYLESHEET = files("ledger.console").joinpath("static/console.css")


def router(sessions: Sessions) -> APIRouter:
    """The sign-in form, sign-in, sign-out and the stylesheet."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/")
    def home(request: Request) -> Response:
        if sessions.signed(request) is not None:
            return RedirectResponse(HOME, status_code=303)
        return html("signin.html", session=None)

    @pages.post("/signin")
    async def sign_in(request: Request) -> Response:
        token = one(await form(request), "token")
        principal = sessions.authenticate(token)
        if principal is None:
            return html(
                "signin.html", 401, session=None,
                problem="the token is unknown, revoked or expired",
            )  # fmt: skip
        if principal.role == "service":
            return error_page(403, SERVICE_REFUSED)
        answer = RedirectResponse(HOME, status_code=303)
        answer.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", path="/ui",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        return answer

    @pages.post("/signout")
    async def sign_out(request: Request) -> Response:
        signed = sessions.signed(request)
        if signed is not None:
            sessions.check_csrf(signed, one(await form(request), "csrf"))
        answer = RedirectResponse("/ui/", status_code=303)
        answer.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
        return answer

    @pages.get("/static/console.css")
    def stylesheet() -> Response:
        return Response(
            STYLESHEET.read_text(encoding="utf-8"), media_type="text/css",
            headers={"Cache-Control": "max-age=300"},
        )  # fmt: skip

    return pages

"""Who may look, and what a request may change: the dashboard's gate, CSRF and headers.

The gate is Horizon's: `authorize(request)` says whether a request may see the dashboard.
Without one, only requests from this machine's loopback addresses are let in (Horizon lets
everyone in only in the `local` environment), unless `insecure_no_auth` says otherwise.

Every change is a POST carrying the CSRF token, in a form field or an `X-CSRF-Token` header,
equal to the `lq_csrf` cookie the dashboard set (a double-submit token: another site can make
a browser send the cookie, but cannot read it to put it in the form).
"""

from __future__ import annotations

import hmac
import inspect
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp

Authorize = Callable[[Request], "bool | Awaitable[bool]"]

CSRF_COOKIE = "lq_csrf"
CSRF_FIELD = "_token"
CSRF_HEADER = "x-csrf-token"

# Scripts and styles come only from the dashboard's own static files; nothing may frame it.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Gate(BaseHTTPMiddleware):
    """Lets a request in (or answers 403), gives it a CSRF token, and adds the security
    headers to every response."""

    def __init__(
        self, app: ASGIApp, authorize: Authorize | None = None, insecure_no_auth: bool = False
    ) -> None:
        super().__init__(app)
        self.authorize = authorize
        self.insecure_no_auth = insecure_no_auth

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not await self._allowed(request):
            response: Response = PlainTextResponse(
                "Forbidden: this dashboard's authorize() did not let this request in.", 403
            )
        else:
            known = request.cookies.get(CSRF_COOKIE)
            request.state.csrf = known or secrets.token_urlsafe(32)
            response = await call_next(request)
            if not known:
                response.set_cookie(
                    CSRF_COOKIE,
                    request.state.csrf,
                    path=request.scope.get("root_path") or "/",
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _allowed(self, request: Request) -> bool:
        if self.authorize is None:
            return self.insecure_no_auth or is_loopback(request.client and request.client.host)
        allowed = self.authorize(request)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        return bool(allowed)


async def checked_form(request: Request) -> dict[str, str]:
    """The POST's form fields, once its CSRF token is checked (403 when it is missing or
    wrong). Parsed here: url-encoded forms need no multipart library."""
    body = (await request.body()).decode("utf-8", "replace")
    form = {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "Forbidden: the CSRF token is missing or does not match.")
    return form

"""Signing in to /admin with the service's own accounts, and the session that follows.

Only an active superuser gets in; a wrong password, an unknown address, a deactivated account and
one that is not a superuser all get the same refusal, and every attempt counts against the API's
login limit (RATE_LIMIT_LOGIN, per client address). The session is a signed cookie (starlette's
session middleware: HttpOnly, SameSite=Strict, path /admin, Secure in production) holding the
account's id and the time it signed in. Every request reloads the account: it must still be an
active superuser whose sign-ins have not been ended since (password changed or reset, signed out
everywhere, deactivated), the comparison an access token's `iat` gets. The session also ends
ADMIN_SESSION_EXPIRE_MINUTES after sign-in, however busy it has been.
"""

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqladmin.authentication import AuthenticationBackend
from sqladmin.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from core import metrics
from core.admin.security import CSRFMiddleware, PathsOnlyMiddleware
from core.config import Settings
from core.errors import RateLimitedError
from core.ratelimit import enforce_rate_limit

log = structlog.get_logger("core.admin")

PATH = "/admin"
COOKIE = "admin_session"
USER_ID, SIGNED_IN_AT = "user_id", "signed_in_at"
# What the login form takes, as the API's login form does: longer is refused unread.
MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH = 320, 1024


class Operator(Protocol):
    """The account signed in to /admin, as core sees it (core imports no module)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_superuser(self) -> bool: ...
    @property
    def password_changed_at(self) -> datetime: ...


class Authenticate(Protocol):
    def __call__(self, *, session: Session, email: str, password: str, rounds: int) -> Operator | None: ...


class LoadAccount(Protocol):
    def __call__(self, *, session: Session, user_id: uuid.UUID) -> Operator | None: ...


@dataclass(frozen=True)
class SignIn:
    """How /admin checks a password and reloads an account: the auth and users modules' own
    functions, which one module's `admin.py` hands over as `sign_in`."""

    authenticate: Authenticate
    load: LoadAccount


def _signing_key(settings: Settings) -> str:
    # A key of its own, derived from SECRET_KEY: the cookie's signature never doubles as a token's.
    return hmac.new(settings.secret_key.encode(), b"admin-session", hashlib.sha256).hexdigest()


class AdminAuth(AuthenticationBackend):
    """sqladmin's hooks: `login` and `logout` for their pages, `authenticate` on every other."""

    templates: Jinja2Templates  # the admin's own, set once sqladmin has made them

    def __init__(self, *, settings: Settings, sign_in: SignIn, engine: Engine) -> None:
        # Not super().__init__(): it adds a session middleware of sqladmin's choosing; this one
        # sets the cookie's flags and lifetime, checks the form token inside it, and innermost
        # hands sqladmin a request it can build no absolute URL from (core.admin.security).
        self.settings, self.sign_in, self.engine = settings, sign_in, engine
        self.lifetime = settings.ADMIN_SESSION_EXPIRE_MINUTES * 60
        self.middlewares = [
            Middleware(
                SessionMiddleware,
                secret_key=_signing_key(settings),
                session_cookie=COOKIE,
                max_age=max(1, round(self.lifetime)),
                path=PATH,
                same_site="strict",
                https_only=settings.ENVIRONMENT == "production",
            ),
            Middleware(CSRFMiddleware),
            Middleware(PathsOnlyMiddleware),
        ]

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        email, password = str(form.get("username") or ""), str(form.get("password") or "")
        try:
            operator = await run_in_threadpool(self._check_password, request, email, password)
        except RateLimitedError as exc:
            context = {"error": "Too many sign-in attempts: wait a minute, then try again."}
            page = await self.templates.TemplateResponse(request, "sqladmin/login.html", context, 429)
            page.headers.update(exc.headers or {})
            return page
        if operator is None:
            metrics.login_failed()
            log.info("admin_sign_in_refused")
            return False
        # A new session: nothing from before the sign-in (its form token included) carries over.
        request.session.clear()
        request.session.update({USER_ID: str(operator.id), SIGNED_IN_AT: time.time()})
        log.info("admin_signed_in", admin_id=str(operator.id))
        return True

    def _check_password(self, request: Request, email: str, password: str) -> Operator | None:
        enforce_rate_limit(request, "login")  # blocks on Redis: this runs in the threadpool
        if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            return None
        with Session(self.engine) as session:
            operator = self.sign_in.authenticate(
                session=session, email=email, password=password, rounds=self.settings.BCRYPT_ROUNDS
            )
        return operator if operator is not None and operator.is_superuser else None

    async def logout(self, request: Request) -> Response | bool:
        log.info("admin_signed_out", admin_id=request.session.get(USER_ID))
        request.session.clear()
        return False  # sqladmin then shows the sign-in page

    async def authenticate(self, request: Request) -> Response | bool:
        operator = await run_in_threadpool(self._signed_in, dict(request.session))
        if operator is None:
            # Ended: signing in again starts afresh. The form token stays, for the sign-in form.
            for key in (USER_ID, SIGNED_IN_AT):
                request.session.pop(key, None)
            return False
        request.state.admin = operator
        return True

    async def get_user_id(self, request: Request) -> Any:
        return str(request.state.admin.id)

    def _signed_in(self, session_data: dict[str, Any]) -> Operator | None:
        """The session's account, if the session still holds: unexpired, and the account an active
        superuser whose sign-ins have not been ended since."""
        user_id, since = session_data.get(USER_ID), session_data.get(SIGNED_IN_AT)
        if (
            not isinstance(user_id, str)
            or not isinstance(since, float)
            or time.time() - since > self.lifetime
        ):
            return None
        try:
            account_id = uuid.UUID(user_id)
        except ValueError:
            return None
        with Session(self.engine) as session:
            operator = self.sign_in.load(session=session, user_id=account_id)
        if operator is None or not (operator.is_active and operator.is_superuser):
            return None
        return operator if since >= operator.password_changed_at.timestamp() else None

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from starlette.concurrency import run_in_threadpool

from core.config import SettingsDep
from core.db import SessionDep
from core.errors import ConflictError, ForbiddenError, ServiceError, UnauthorizedError, responses
from core.headers import no_store
from core.ratelimit import rate_limit
from modules.auth import password_reset, service
from modules.auth.dependencies import CurrentSessionId, OwnedSession, VerifiedRefreshToken
from modules.auth.schemas import (
    AuthSessionRead,
    EmailRequest,
    LoginForm,
    PasswordResetConfirm,
    RequestAccepted,
    TokenPair,
    VerificationConfirm,
)
from modules.auth.settings import AuthSettings
from modules.users import api as users
from modules.users.api import CurrentUser, User, UserRead, UserRegister

REGISTRATION_CLOSED = "Registration is closed"

router = APIRouter()

# Every handler is `async def`, and sends what blocks (the database, bcrypt) to the threadpool in
# one trip: a `def` handler would cost two, one to run it and one more to check its answer.

# The same answer whether or not the address has an account, so nobody learns which do.
VERIFICATION_ACCEPTED = RequestAccepted(
    detail="If an unverified account uses this address, a verification link is on its way to it"
)
PASSWORD_RESET_ACCEPTED = RequestAccepted(
    detail="If an active account uses this address, a password reset link is on its way to it"
)


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limit("register", AuthSettings)],
    responses=responses(ForbiddenError, ConflictError),
)
async def register(user_in: UserRegister, session: SessionDep, settings: SettingsDep) -> User:
    if not settings.section(AuthSettings).OPEN_REGISTRATION:
        raise ForbiddenError(REGISTRATION_CLOSED)
    return await run_in_threadpool(
        users.create_user, session=session, user_in=user_in, rounds=settings.BCRYPT_ROUNDS
    )


@router.post(
    "/login",
    dependencies=[rate_limit("login", AuthSettings), no_store],
    responses=responses(UnauthorizedError, ForbiddenError),
)
async def login(
    form: Annotated[LoginForm, Form()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. One answer for every failure."""
    return await run_in_threadpool(
        service.sign_in,
        session=session,
        email=form.username,
        password=form.password,
        settings=settings,
        user_agent=request.headers.get("user-agent"),
        ip_address=request.client.host if request.client else None,
    )


@router.post("/refresh", dependencies=[rate_limit("refresh", AuthSettings), no_store])
async def refresh(
    refresh_token: VerifiedRefreshToken, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Swap a refresh token for a new pair; each refresh token works once."""
    return await run_in_threadpool(
        service.rotate_session,
        session=session,
        claims=refresh_token.claims,
        refresh_token=refresh_token.token,
        settings=settings,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(refresh_token: VerifiedRefreshToken, session: SessionDep) -> None:
    await run_in_threadpool(service.end_session, session=session, claims=refresh_token.claims)


@router.post(
    "/verify/request", status_code=status.HTTP_202_ACCEPTED, dependencies=[rate_limit("verify", AuthSettings)]
)
async def request_verification(body: EmailRequest, session: SessionDep) -> RequestAccepted:
    """Mail a verification link, if the address belongs to an unverified account. Always 202."""
    await run_in_threadpool(users.request_verification, session=session, email=body.email)
    return VERIFICATION_ACCEPTED


@router.post("/verify/confirm", response_model=UserRead, responses=responses(ServiceError))
async def confirm_verification(body: VerificationConfirm, session: SessionDep, settings: SettingsDep) -> User:
    return await run_in_threadpool(users.confirm_email, session=session, token=body.token, settings=settings)


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit("password_reset", AuthSettings)],
)
async def request_password_reset(body: EmailRequest, session: SessionDep) -> RequestAccepted:
    """Mail a password reset link, if the address belongs to an active account. Always 202."""
    await run_in_threadpool(password_reset.request_password_reset, session=session, email=body.email)
    return PASSWORD_RESET_ACCEPTED


@router.post(
    "/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, responses=responses(ServiceError)
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, settings: SettingsDep
) -> None:
    """Set a new password; the link then stops working, and so do all the account's sessions."""
    await run_in_threadpool(
        password_reset.confirm_password_reset,
        session=session,
        token=body.token,
        new_password=body.new_password,
        settings=settings,
    )


@router.get("/sessions")
async def list_sessions(
    user: CurrentUser, current: CurrentSessionId, session: SessionDep
) -> list[AuthSessionRead]:
    """The caller's sessions still in use; `current` marks this one."""
    return [
        AuthSessionRead.model_validate(auth_session, update={"current": auth_session.id == current})
        for auth_session in await run_in_threadpool(service.list_sessions, session=session, user=user)
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(auth_session: OwnedSession, session: SessionDep) -> None:
    """End one session: its refresh token stops working."""
    await run_in_threadpool(service.revoke_session, session=session, auth_session=auth_session)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(user: CurrentUser, session: SessionDep) -> None:
    """End every session of the caller, this one included."""
    await run_in_threadpool(service.revoke_all_sessions, session=session, user=user)

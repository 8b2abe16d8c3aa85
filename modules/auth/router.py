from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from core.config import SettingsDep
from core.db import SessionDep
from core.errors import ForbiddenError, UnauthorizedError
from core.ratelimit import rate_limit
from modules.auth import service
from modules.auth.dependencies import VerifiedRefreshToken
from modules.auth.schemas import TokenPair
from modules.users.models import User
from modules.users.schemas import UserRead, UserRegister
from modules.users.service import create_user

router = APIRouter()


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limit("register")],
)
def register(user_in: UserRegister, session: SessionDep, settings: SettingsDep) -> User:
    if not settings.OPEN_REGISTRATION:
        raise ForbiddenError("Registration is closed")
    return create_user(session=session, user_in=user_in, rounds=settings.BCRYPT_ROUNDS)


@router.post("/login", dependencies=[rate_limit("login")])
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. One answer for every failure."""
    user = service.authenticate(
        session=session, email=form.username, password=form.password, rounds=settings.BCRYPT_ROUNDS
    )
    if user is None:
        raise UnauthorizedError("Incorrect email or password")
    return service.start_session(session=session, user=user, settings=settings)


@router.post("/refresh", dependencies=[rate_limit("refresh")])
def refresh(refresh_token: VerifiedRefreshToken, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Swap a refresh token for a new pair; each refresh token works once."""
    return service.rotate_session(
        session=session, claims=refresh_token.claims, refresh_token=refresh_token.token, settings=settings
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(refresh_token: VerifiedRefreshToken, session: SessionDep) -> None:
    service.end_session(session=session, claims=refresh_token.claims)

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.concurrency import run_in_threadpool

from core.config import SettingsDep
from core.db import SessionDep
from core.errors import ConflictError, ServiceError, responses
from core.ratelimit import rate_limit, spend
from core.schemas import PageParams
from modules.users import service, verification
from modules.users.dependencies import CurrentSuperuser, CurrentUser, UserById, get_current_superuser
from modules.users.models import User
from modules.users.schemas import PasswordChange, UserCreate, UserPage, UserRead, UserUpdate, UserUpdateMe
from modules.users.settings import UsersSettings

router = APIRouter()


# Every handler is `async def`, and sends what blocks (the database, bcrypt) to the threadpool in
# one trip: a `def` handler would cost two, one to run it and one more to check its answer.
@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> User:
    return user


@router.patch("/me", response_model=UserRead, responses=responses(ConflictError))
async def update_me(
    user_in: UserUpdateMe,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> User:
    """A new email address takes effect when the link mailed to it is followed; until then the
    account keeps its address. The answer is the same whether or not the address is taken."""
    if user_in.email is not None and user_in.email != user.email:
        await spend(request, "email_change", section=UsersSettings)
    await run_in_threadpool(
        verification.update_own_profile, session=session, user=user, user_in=user_in, settings=settings
    )
    return user


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[rate_limit("password_change", UsersSettings)],
    responses=responses(ServiceError),
)
async def change_my_password(
    body: PasswordChange, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Change the password; every refresh token issued before now stops working."""
    await run_in_threadpool(
        service.change_password,
        session=session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
        rounds=settings.BCRYPT_ROUNDS,
    )


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=responses(ServiceError))
async def delete_me(user: CurrentUser, session: SessionDep) -> None:
    """Delete the caller's account, with everything it owns."""
    await run_in_threadpool(service.delete_user, session=session, user=user, actor=user)


@router.get("", response_model=UserPage, dependencies=[Depends(get_current_superuser)])
async def list_users(params: Annotated[PageParams, Query()], session: SessionDep) -> UserPage:
    users, total = await run_in_threadpool(service.list_users, session=session, params=params)
    return UserPage.of(users, total=total, params=params)


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(get_current_superuser)],
    responses=responses(ConflictError),
)
async def create_user(user_in: UserCreate, session: SessionDep, settings: SettingsDep) -> User:
    return await run_in_threadpool(
        service.create_user, session=session, user_in=user_in, rounds=settings.BCRYPT_ROUNDS
    )


@router.get("/{user_id}", response_model=UserRead)
async def read_user(user: UserById) -> User:
    return user


@router.patch("/{user_id}", response_model=UserRead, responses=responses(ServiceError, ConflictError))
async def update_user(
    user_in: UserUpdate, user: UserById, admin: CurrentSuperuser, session: SessionDep, settings: SettingsDep
) -> User:
    return await run_in_threadpool(
        service.update_user,
        session=session,
        user=user,
        user_in=user_in,
        rounds=settings.BCRYPT_ROUNDS,
        actor=admin,
    )


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(ServiceError))
async def delete_user(user: UserById, admin: CurrentSuperuser, session: SessionDep) -> None:
    await run_in_threadpool(service.delete_user, session=session, user=user, actor=admin)

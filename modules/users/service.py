import uuid

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import crud
from core.config import Settings
from core.db import utcnow
from core.errors import ConflictError, ServiceError
from core.events import publish
from core.schemas import PageParams
from core.security import hash_password, verify_password
from modules.users.errors import UsersErrorCode
from modules.users.events import (
    UserDeactivated,
    UserDeleted,
    UserEmailChanged,
    UserPasswordChanged,
    UserRegistered,
)
from modules.users.models import User
from modules.users.schemas import UserCreate, UserRegister, UserUpdate, UserUpdateMe
from modules.users.settings import UsersSettings

EMAIL_TAKEN = "A user with this email already exists"
SELF_DEMOTION = "Superusers cannot demote or deactivate themselves"
SELF_DELETION = "Superusers cannot delete themselves"
WRONG_PASSWORD = "Current password is incorrect"


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    # A login name is not validated; PostgreSQL would refuse a NUL in it with a 500.
    if "\x00" in email:
        return None
    return session.exec(select(User).where(User.email == email.lower())).first()


def _save(session: Session, user: User) -> User:
    """Commit, turning a lost race on the unique email into the same 409 as the check."""
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(EMAIL_TAKEN) from exc
    return user


def _ensure_email_free(session: Session, email: str, *, owner: User | None = None) -> None:
    existing = get_user_by_email(session=session, email=email)
    if existing is not None and existing is not owner:
        raise ConflictError(EMAIL_TAKEN)


def create_user(*, session: Session, user_in: UserRegister, rounds: int) -> User:
    _ensure_email_free(session, user_in.email)
    # Whatever privilege fields the schema has are copied; UserRegister has none.
    user = User.model_validate(
        user_in, update={"hashed_password": hash_password(user_in.password, rounds=rounds)}
    )
    publish(session, UserRegistered(user_id=user.id))
    return _save(session, user)


def update_user(
    *, session: Session, user: User, user_in: UserUpdateMe, rounds: int, actor: User | None = None
) -> User:
    """Apply the fields the client sent. `actor` is the superuser editing someone, if any."""
    changes = user_in.model_dump(exclude_unset=True)
    # Only the name can be cleared; a null for anything else means "leave it".
    changes = {key: value for key, value in changes.items() if value is not None or key == "full_name"}
    if (
        actor is not None
        and actor.id == user.id
        and (changes.get("is_superuser") is False or changes.get("is_active") is False)
    ):
        raise ServiceError(SELF_DEMOTION)
    if "email" in changes:
        _ensure_email_free(session, changes["email"], owner=user)
        if changes["email"] != user.email:
            # A new address is unproven, unless a superuser sets it: they vouch for it, as on creation.
            changes.setdefault("is_verified", actor is not None)
            publish(session, UserEmailChanged(user_id=user.id))
    if isinstance(user_in, UserUpdate) and "password" in changes:
        _set_password(session, user, changes.pop("password"), rounds=rounds)
    if changes.get("is_active") is False and user.is_active:
        # Reactivated later, the account starts afresh: nothing issued before now works again.
        expire_sign_ins(user)
        publish(session, UserDeactivated(user_id=user.id))
    user.sqlmodel_update(changes)
    return _save(session, user)


def change_email(*, session: Session, user: User, email: str) -> User:
    """Set an address its owner has proven (they followed the link mailed to it); 409 if another
    account took it in the meantime."""
    _ensure_email_free(session, email, owner=user)
    user.email = email
    user.is_verified = True
    publish(session, UserEmailChanged(user_id=user.id))
    return _save(session, user)


def expire_sign_ins(user: User) -> None:
    """Every session started and access token issued before now stops working (once committed)."""
    user.password_changed_at = utcnow()


def sign_out_everywhere(*, session: Session, user: User) -> None:
    """End every session and access token of the account, and commit what the session holds."""
    expire_sign_ins(user)
    session.add(user)
    session.commit()


def _set_password(session: Session, user: User, password: str, *, rounds: int) -> None:
    user.hashed_password = hash_password(password, rounds=rounds)
    expire_sign_ins(user)
    publish(session, UserPasswordChanged(user_id=user.id))


def change_password(
    *, session: Session, user: User, current_password: str, new_password: str, rounds: int
) -> None:
    """Set a new password; every session started before now stops working."""
    if not verify_password(current_password, user.hashed_password, rounds=rounds):
        raise ServiceError(WRONG_PASSWORD, code=UsersErrorCode.WRONG_PASSWORD)
    _set_password(session, user, new_password, rounds=rounds)
    _save(session, user)


def reset_password(*, session: Session, user: User, new_password: str, rounds: int) -> bool:
    """Set a new password for the holder of a reset link, who need not know the current one.

    The link was mailed to the account's address, so following it also proves the address.
    Compare-and-swap on the old hash: of two requests racing with one link, only one changes
    the password; the other gets False.
    """
    swapped = session.connection().execute(
        update(User)
        .where(col(User.id) == user.id, col(User.hashed_password) == user.hashed_password)
        .values(
            hashed_password=hash_password(new_password, rounds=rounds),
            password_changed_at=utcnow(),
            is_verified=True,
        )
    )
    if swapped.rowcount == 1:
        publish(session, UserPasswordChanged(user_id=user.id))
    session.commit()
    session.refresh(user)
    return swapped.rowcount == 1


def delete_user(*, session: Session, user: User, actor: User | None = None) -> None:
    """Delete the account; the database cascades to everything it owns."""
    if actor is not None and actor.id == user.id and user.is_superuser:
        raise ServiceError(SELF_DELETION)
    publish(session, UserDeleted(user_id=user.id))
    session.delete(user)
    session.commit()


def list_users(*, session: Session, params: PageParams) -> tuple[list[User], int]:
    users = select(User).order_by(col(User.created_at), col(User.id))
    return crud.paged(session, users, count=select(func.count()).select_from(User), params=params)


def ensure_first_superuser(*, session: Session, settings: Settings) -> User | None:
    """Create the configured first superuser once; later runs leave the account alone."""
    first = settings.section(UsersSettings)
    if first.FIRST_SUPERUSER_EMAIL is None or first.FIRST_SUPERUSER_PASSWORD is None:
        return None
    existing = get_user_by_email(session=session, email=first.FIRST_SUPERUSER_EMAIL)
    if existing is not None:
        return existing
    user_in = UserCreate(
        email=first.FIRST_SUPERUSER_EMAIL,
        password=first.FIRST_SUPERUSER_PASSWORD.get_secret_value(),
        is_superuser=True,
    )
    return create_user(session=session, user_in=user_in, rounds=settings.BCRYPT_ROUNDS)

"""Create the first superuser from FIRST_SUPERUSER_EMAIL/PASSWORD: `python -m modules.users.first_superuser`.

Safe to run on every start: an existing account is left as it is.
"""

from pydantic import ValidationError
from sqlmodel import Session

from core.config import get_settings
from core.db import create_db_engine
from core.logging import configure_logging
from modules.users.service import ensure_first_superuser


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    engine = create_db_engine(settings)
    # expire_on_commit=False: the account is read (its email printed) after the session closes.
    with Session(engine, expire_on_commit=False) as session:
        try:
            user = ensure_first_superuser(session=session, settings=settings)
        except ValidationError as exc:
            # The reasons alone: pydantic's own message (and a traceback) would print the password.
            reasons = "; ".join(error["msg"] for error in exc.errors(include_input=False))
            raise SystemExit(f"first superuser: FIRST_SUPERUSER_* refused: {reasons}") from None
        # Read while the session is open: the commit expired the new user, and a closed
        # session could not load its email again.
        message = f"first superuser: {user.email}" if user else "first superuser: not configured"
    engine.dispose()
    print(message)


if __name__ == "__main__":
    main()

"""Delete sessions that can never be used again: `python -m modules.auth.prune`.

A login already deletes its user's dead sessions; this catches the users who never come
back. Run it from cron or a scheduled job (daily is plenty); it is safe to run at any time.
"""

from sqlmodel import Session

from core.config import get_settings
from core.db import create_db_engine
from core.logging import configure_logging
from modules.auth.service import prune_sessions


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    engine = create_db_engine(settings)
    with Session(engine) as session:
        deleted = prune_sessions(session=session)
    engine.dispose()
    print(f"pruned sessions: {deleted}")


if __name__ == "__main__":
    main()

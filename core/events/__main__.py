"""`python -m core.events dead|resubmit [--event NAME] [--listener NAME] [--older-than AGE]`:
list the deliveries that ran out of attempts, or give them a fresh set. NAME is as the job kind
spells it (`<module>.<Event>`, `<module>.<function>`); AGE is `90s`, `15m`, `2h` or `3d`."""

import argparse
import re
from datetime import datetime, timedelta

from core.config import get_settings
from core.db import create_db_engine, utcnow
from core.events.bus import delivery_kinds
from core.jobs.queue import dead_jobs, requeue_dead
from core.logging import configure_logging

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def age(text: str) -> timedelta:
    found = re.fullmatch(r"(\d+)([smhd])", text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age such as 90s, 15m, 2h or 3d")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m core.events", description="Dead event deliveries.")
    parser.add_argument("command", choices=["dead", "resubmit"])
    parser.add_argument("--event", help="one event: <module>.<Event>")
    parser.add_argument("--listener", help="one listener: <module>.<function>")
    parser.add_argument("--older-than", type=age, help="only deliveries published longer ago: 2h")
    arguments = parser.parse_args()
    settings = get_settings()
    configure_logging(settings)
    engine = create_db_engine(settings)
    kinds = delivery_kinds(event=arguments.event, listener=arguments.listener)
    before: datetime | None = utcnow() - arguments.older_than if arguments.older_than else None
    with engine.begin() as connection:
        if arguments.command == "dead":
            rows = dead_jobs(connection, kinds_like=kinds, created_before=before)
            for row in rows:
                published = f"{row.created_at:%Y-%m-%d %H:%M:%S}"
                print(f"{published} {row.kind} {row.id} attempts={row.attempts}: {row.last_error}")
            print(f"{len(rows)} dead deliveries")
        else:
            count = requeue_dead(connection, kinds_like=kinds, created_before=before)
            print(f"{count} dead deliveries resubmitted")
    engine.dispose()


if __name__ == "__main__":
    main()

"""The service plus a listener of its own, for the event delivery tests only.

It hears every account registered (`users.UserRegistered`, in every service whatever its
entities) and writes a line per delivery, `event_id attempt pid`, to the file EVENTS_HEARD
names. With EVENTS_STALL_FIRST_ATTEMPT set, a first attempt touches that file's `.stalled` twin
and then hangs, for the test to kill the process mid-delivery."""

import os
import time
from pathlib import Path

from fastapi import FastAPI

from core.app import create_app as create_service
from core.events import listener
from core.jobs import JobContext
from modules.users.events import UserRegistered

STALL_SECONDS = 120


@listener(UserRegistered)
def write_down(event: UserRegistered, context: JobContext) -> None:
    heard = Path(os.environ["EVENTS_HEARD"])
    if os.environ.get("EVENTS_STALL_FIRST_ATTEMPT") and context.attempt == 1:
        heard.with_suffix(".stalled").touch()
        time.sleep(STALL_SECONDS)
    with heard.open("a") as lines:  # one short write per line: appends never interleave
        lines.write(f"{event.event_id} {context.attempt} {os.getpid()}\n")


def create_app() -> FastAPI:
    return create_service()

"""The service with one listener more: every item created is delivered to it (a job per item,
written with the item, run after the commit). `make bench BENCH_ARGS="--app bench.listening:create_app"`
prices a write that has a subscriber against one that has none."""

from fastapi import FastAPI

from core.app import create_app as create_service
from core.events import listener
from core.jobs import JobContext
from modules.items.events import ItemCreated


@listener(ItemCreated)
def hear(event: ItemCreated, context: JobContext) -> None:
    """Nothing to do: the cost measured is the delivery's, written and run."""


def create_app() -> FastAPI:
    return create_service()

"""The schema fuzzer: schemathesis reads `/openapi.json` and sends the app (in process, no server)
requests made from it, valid and invalid, as a user and as a superuser, one operation at a time
and in sequences that feed one answer into the next request. Every answer must keep the
contract: no 5xx, a documented status with a body of the documented shape, valid requests
accepted and invalid ones refused, a deleted row gone and a created one there.

docs/api.md ("The schema fuzzer") explains each narrowing below, one by one.
"""

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import Engine

from core.db import metadata
from modules.users.models import User
from tests.helpers import ROOT

# Examples per operation, generation mode and caller; stateful scenarios per caller. Sized so the
# whole fuzzer takes well under a minute on two cores (figures in docs/api.md).
EXAMPLES = 20
SCENARIOS = 15
STEPS = 10

# The project's own settings (400 is a refusal in substance), as `st run` reads them.
CONFIG = SchemathesisConfig.from_path(str(ROOT / "schemathesis.toml"))


# What a valid request may still be refused for, by a rule the schema cannot state: a reference
# to a row that does not exist (or is another account's), and a decimal's digits and places
# (pydantic's schema for a Decimal gives neither).
UNSTATED = frozenset(
    {
        "reference_not_found",
        "decimal_parsing",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
    }
)


def _refused_for_the_unstated(response: Any) -> bool:
    if response.status_code != 422:
        return False
    problems = response.json()["detail"]
    return bool(problems) and all(problem["type"] in UNSTATED for problem in problems)


@pytest.fixture
def api(app: FastAPI) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.fixture(params=["user", "superuser"])
def caller(
    request: pytest.FixtureRequest,
    make_user: Callable[..., User],
    headers_for: Callable[[User], dict[str, str]],
) -> Callable[[], dict[str, str]]:
    """A new account of the kind, signed in: each operation gets its own, since some end it."""
    superuser = request.param == "superuser"
    return lambda: headers_for(make_user(is_superuser=superuser))


class Tally:
    def __init__(self) -> None:
        self.operations = 0
        self.examples = 0
        self.findings: list[str] = []
        self.unreachable: list[str] = []

    def report(self, name: str) -> None:
        found = len(self.findings)
        print(f"{name}: {self.operations} operations, {self.examples} examples, {found} findings")
        if self.unreachable:
            print(f"  no valid example got through: {', '.join(self.unreachable)}")
        assert self.findings == [], "\n\n".join(self.findings)
        assert self.examples > self.operations, "the fuzzer hardly ran: is the schema empty?"


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], tally: Tally) -> None:
    """Up to EXAMPLES requests to one operation; a failure is a finding, with how to replay it."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        tally.examples += 1
        response = case.call(headers=headers)
        assume(mode is GenerationMode.NEGATIVE or not _refused_for_the_unstated(response))
        case.validate_response(response, headers=headers)

    try:
        run()
    except Unsatisfiable:
        # Every valid example named a row that does not exist (a create whose every reference
        # is random): nothing was refused that should not have been.
        tally.unreachable.append(f"{operation.label} ({mode.value})")
    except (Exception, BaseExceptionGroup) as finding:
        tally.findings.append(f"{operation.label} ({mode.value}): {finding}")


def test_every_operation_keeps_its_contract(api: OpenApiSchema, caller: Callable[[], dict[str, str]]) -> None:
    tally = Tally()
    for result in api.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        headers = caller()
        fuzz(operation, GenerationMode.POSITIVE, headers, tally)
        if operation.body or operation.query or operation.path_parameters:
            fuzz(operation, GenerationMode.NEGATIVE, headers, tally)
    tally.report("operations")


def test_sequences_of_operations_keep_the_contract(
    api: OpenApiSchema, caller: Callable[[], dict[str, str]], engine: Engine
) -> None:
    """Scenarios of linked calls (create, then read, update, delete what was created...); each
    starts from empty tables and a new caller, so replaying one to report it meets what it met."""
    tally = Tally()

    class Scenario(api.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.headers = caller()

        def teardown(self) -> None:
            with engine.begin() as connection:
                for table in reversed(metadata().sorted_tables):
                    connection.execute(table.delete())

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": self.headers}

        def before_call(self, case: schemathesis.Case) -> None:
            tally.examples += 1

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            assume(not _refused_for_the_unstated(response))
            super().validate_response(response, case, **kwargs)

    tally.operations = len(list(api.get_all_operations()))
    try:
        Scenario.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    except (Exception, BaseExceptionGroup) as finding:
        tally.findings.append(str(finding))
    tally.report("sequences")

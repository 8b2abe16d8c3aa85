"""Background jobs in /admin: what waits, runs and died, with its error and attempts; a dead job
can be queued again. Core's own table, which core shows nowhere, so the site adds this view itself
(the modules' views are found in their `admin.py`)."""

import json
import re
from typing import Any

from sqladmin.filters import AllUniqueStringValuesFilter, StaticValuesFilter
from sqlmodel import Session

from core.jobs.models import Job, JobStatus
from core.jobs.queue import requeue_dead
from modules.admin.auth import Operator
from modules.admin.views import AdminView, row_action

# A mail's payload holds a working link (a password reset's, say): its token, and anything that
# looks like a token, is never shown. Ids and kinds are what payloads should hold anyway.
_TOKEN_IN_TEXT = re.compile(r"(token=)[^\s&\"']+|\beyJ[\w-]+\.[\w-]+\.[\w-]*", re.IGNORECASE)
_SECRET_KEY = re.compile(r"password|token|secret", re.IGNORECASE)
HIDDEN = "[hidden]"


def shown_payload(payload: Any) -> Any:
    """The payload with every token and secret-named value hidden."""
    if isinstance(payload, dict):
        return {
            key: HIDDEN if _SECRET_KEY.search(str(key)) else shown_payload(v) for key, v in payload.items()
        }
    if isinstance(payload, list):
        return [shown_payload(item) for item in payload]
    if isinstance(payload, str):
        return _TOKEN_IN_TEXT.sub(lambda match: f"{match[1] or ''}{HIDDEN}", payload)
    return payload


class JobAdmin(AdminView, model=Job):
    name, name_plural = "Job", "Jobs"
    icon = "fa-solid fa-gears"
    column_list = ["kind", "status", "attempts", "run_at", "last_error", "created_at"]
    column_searchable_list = ["kind", "last_error"]
    column_sortable_list = ["created_at", "run_at", "attempts", "kind"]
    column_filters = [
        StaticValuesFilter("status", [(status.value, status.value) for status in JobStatus]),
        AllUniqueStringValuesFilter("kind"),
    ]
    column_labels = {"run_at": "Next run", "last_error": "Error", "locked_until": "Leased until"}
    column_formatters_detail = {"payload": lambda job, _name: json.dumps(shown_payload(job.payload))}

    @row_action("Queue again", when=lambda job: job.status == JobStatus.DEAD)
    def requeue(self, *, session: Session, row: Job, admin: Operator) -> str:
        requeue_dead(session.connection(), job_id=row.id)
        session.commit()
        return "Queued again, with a fresh set of attempts: it runs at the next poll"

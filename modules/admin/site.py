"""Mount /admin on the app: sqladmin with the service's sign-in, form tokens and content security
policy, the views every module's `admin.py` hands over (`pages`) and the job queue's."""

import logging
from pathlib import Path

from fastapi import FastAPI
from sqladmin import Admin
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse

from core.config import Settings
from core.docs import ASSETS_URL
from modules.admin.auth import PATH, AdminAuth, SignIn
from modules.admin.entities import FormError
from modules.admin.pages import AdminPages, found_pages
from modules.admin.queue import JobAdmin
from modules.admin.security import SecurityHeadersMiddleware, csrf_token
from modules.admin.views import AdminView

HERE = Path(__file__).parent
# Core's job queue, which no module's admin.py shows.
QUEUE_VIEWS: list[type[AdminView]] = [JobAdmin]


def add_admin(app: FastAPI, *, settings: Settings, engine: Engine) -> None:
    pages = found_pages()
    auth = AdminAuth(settings=settings, sign_in=_sign_in(pages), engine=engine)
    admin = Admin(
        app,
        session_maker=sessionmaker(engine, class_=Session, expire_on_commit=False),
        base_url=PATH,
        title=f"{settings.PROJECT_NAME} admin",
        favicon_url=f"{ASSETS_URL}/favicon.png",
        # Overrides of sqladmin's templates: no inline script, a form token in every form.
        templates_dir=str(HERE / "templates"),
        authentication_backend=auth,
        middlewares=[Middleware(SecurityHeadersMiddleware)],
        # Beside sqladmin's own assets, under the same /admin/statics.
        static_files_kwargs={"directory": HERE / "static"},
    )
    # The mount answers /admin/ and below; /admin itself would be the API's 404.
    app.add_route(PATH, _to_the_site, include_in_schema=False)
    auth.templates = admin.templates
    admin.templates.env.globals["csrf_token"] = csrf_token
    # Rate limits read the settings and limiter off `request.app`: here, sqladmin's own app.
    admin.admin.state.settings = settings
    admin.admin.state.limiter = app.state.limiter
    for view in [*(view for found in pages.values() for view in found.views), *QUEUE_VIEWS]:
        # A subclass of each view per app: sqladmin sets the engine on the class it is given,
        # and one process may build several apps (the tests do).
        admin.add_view(type(view.__name__, (view,), {"settings": settings}))
    _keep_refusals_out_of_error_logs()


async def _to_the_site(request: Request) -> RedirectResponse:
    # A path (the root path included), never built from the Host header (modules.admin.security).
    return RedirectResponse(f"{request.scope['path']}/", status_code=307)


def _sign_in(pages: dict[str, AdminPages]) -> SignIn:
    found = {name: given.sign_in for name, given in pages.items() if given.sign_in is not None}
    if len(found) != 1:
        named = f": {', '.join(found)}" if found else ""
        raise SystemExit(f"/admin needs one module's admin.py to hand over sign_in; {len(found)} do{named}")
    return next(iter(found.values()))


class _NotARefusedForm(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FormError))


def _keep_refusals_out_of_error_logs() -> None:
    """sqladmin logs a failed save with its traceback; a form the API's rules refused is no fault
    (the view logs it as `admin_action_refused`)."""
    logger = logging.getLogger("sqladmin.application")
    if not any(isinstance(existing, _NotARefusedForm) for existing in logger.filters):
        logger.addFilter(_NotARefusedForm())

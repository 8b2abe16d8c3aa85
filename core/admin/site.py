"""Mount /admin on the app: sqladmin with the service's sign-in, form tokens and content security
policy, the views every module's `admin.py` declares (found by discovery) and core's own."""

import logging
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI
from sqladmin import Admin
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse

from core import discovery
from core.admin.auth import PATH, AdminAuth, SignIn
from core.admin.entities import FormError
from core.admin.jobs import JobAdmin
from core.admin.security import SecurityHeadersMiddleware, csrf_token
from core.admin.views import AdminView
from core.config import Settings
from core.docs import ASSETS_URL

HERE = Path(__file__).parent
CORE_VIEWS: list[type[AdminView]] = [JobAdmin]


def add_admin(app: FastAPI, *, settings: Settings, engine: Engine) -> None:
    modules = discovery.admin_modules()
    auth = AdminAuth(settings=settings, sign_in=_sign_in(modules), engine=engine)
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
    for view in [*(view for module in modules for view in getattr(module, "views", [])), *CORE_VIEWS]:
        # A subclass of each view per app: sqladmin sets the engine on the class it is given,
        # and one process may build several apps (the tests do).
        admin.add_view(type(view.__name__, (view,), {"settings": settings}))
    _keep_refusals_out_of_error_logs()


async def _to_the_site(request: Request) -> RedirectResponse:
    # A path (the root path included), never built from the Host header (core.admin.security).
    return RedirectResponse(f"{request.scope['path']}/", status_code=307)


def _sign_in(modules: list[ModuleType]) -> SignIn:
    found: list[SignIn] = [
        sign_in for module in modules if isinstance(sign_in := getattr(module, "sign_in", None), SignIn)
    ]
    if len(found) != 1:
        raise RuntimeError(f"/admin needs one module's admin.py to define sign_in; {len(found)} do")
    return found[0]


class _NotARefusedForm(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FormError))


def _keep_refusals_out_of_error_logs() -> None:
    """sqladmin logs a failed save with its traceback; a form the API's rules refused is no fault
    (the view logs it as `admin_action_refused`)."""
    logger = logging.getLogger("sqladmin.application")
    if not any(isinstance(existing, _NotARefusedForm) for existing in logger.filters):
        logger.addFilter(_NotARefusedForm())

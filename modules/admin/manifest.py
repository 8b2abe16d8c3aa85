"""What core reads of the admin module (`core.manifest`): its settings, and the site it adds."""

from fastapi import FastAPI
from sqlalchemy import Engine

from core.config import Settings
from core.manifest import Manifest
from modules.admin.settings import AdminSettings


def install(app: FastAPI, *, settings: Settings, engine: Engine) -> None:
    """Mount /admin when ADMIN_ENABLED."""
    if settings.section(AdminSettings).ADMIN_ENABLED:
        # Imported only when on: with ADMIN_ENABLED=false nothing of /admin is loaded or routed.
        from modules.admin.site import add_admin

        add_admin(app, settings=settings, engine=engine)


manifest = Manifest(settings=AdminSettings, install=install)

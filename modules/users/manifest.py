"""What core reads of the users module (`core.manifest`)."""

from core.manifest import Manifest
from modules.users.jobs import email_change_link, verification_link
from modules.users.router import router
from modules.users.settings import UsersSettings
from modules.users.standing import ACCOUNTS

manifest = Manifest(
    router=router, settings=UsersSettings, caller=ACCOUNTS, jobs=(verification_link, email_change_link)
)

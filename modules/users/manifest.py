"""What core reads of the users module (`core.manifest`)."""

from core.manifest import Manifest
from modules.users.jobs import email_change_link, verification_link
from modules.users.router import router
from modules.users.standing import ACCOUNTS

manifest = Manifest(router=router, caller=ACCOUNTS, jobs=(verification_link, email_change_link))

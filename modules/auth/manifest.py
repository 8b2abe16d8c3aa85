"""What core reads of the auth module (`core.manifest`)."""

from core.manifest import Manifest
from modules.auth.jobs import reset_link
from modules.auth.listeners import end_sign_ins_after_a_password_change, end_sign_ins_of_a_deactivated_account
from modules.auth.router import router
from modules.auth.settings import AuthSettings

manifest = Manifest(
    router=router,
    settings=AuthSettings,
    sign_in="/login",
    jobs=(reset_link,),
    listeners=(end_sign_ins_after_a_password_change, end_sign_ins_of_a_deactivated_account),
)

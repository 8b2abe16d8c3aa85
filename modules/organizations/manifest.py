"""What core reads of the organizations module (`core.manifest`)."""

from core.manifest import Manifest
from modules.organizations.jobs import prune_an_expired_invitation
from modules.organizations.listeners import revoke_the_invitations_of_a_removed_member
from modules.organizations.router import router
from modules.organizations.settings import OrganizationsSettings

manifest = Manifest(
    router=router,
    settings=OrganizationsSettings,
    jobs=(prune_an_expired_invitation,),
    listeners=(revoke_the_invitations_of_a_removed_member,),
)

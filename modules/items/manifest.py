"""What core reads of the items module (`core.manifest`)."""

from core.manifest import Manifest
from modules.items.router import router

manifest = Manifest(router=router)

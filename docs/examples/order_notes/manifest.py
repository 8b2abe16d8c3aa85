# modules/order_notes/manifest.py
"""What core reads of the order notes module (`core.manifest`)."""

from core.manifest import Manifest
from modules.order_notes.listeners import note_the_new_order
from modules.order_notes.router import router

manifest = Manifest(router=router, listeners=(note_the_new_order,))

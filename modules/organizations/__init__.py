"""Organizations: teams that own rows, their members' roles, and invitations to join them."""

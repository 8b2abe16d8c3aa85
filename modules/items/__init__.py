"""Items: owner-scoped CRUD."""

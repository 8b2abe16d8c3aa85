"""Items: the example entity. Owner-scoped CRUD, and the module every new entity is copied from."""

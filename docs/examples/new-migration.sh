# After changing a model, from the project's root: a revision holding what the database lacks.
.venv/bin/alembic revision --autogenerate -m "add a phone number to users"

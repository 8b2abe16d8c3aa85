# With `make run` serving: a typed Python client of the API, written to api_client/
# (openapi-python-client is one of the dev dependencies, so .venv has it).
SERVICE=${SERVICE:-http://127.0.0.1:8000}
.venv/bin/openapi-python-client generate --url "$SERVICE/openapi.json" --meta none --output-path "${OUTPUT:-api_client}"

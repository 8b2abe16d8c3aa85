#!/bin/sh
# The container's start command (and anyone's outside one): migrate, create the first superuser
# if FIRST_SUPERUSER_* are set, then serve. Settings come from the environment and .env.
#   HOST, PORT           where to listen (0.0.0.0:8000)
#   WEB_CONCURRENCY      worker processes (1); each has its own database pool
#   JOBS_IN_PROCESS      true (default): each process also runs background jobs (mail). Set it
#                        to false where job workers run beside the service, each started with
#                          python -m core.jobs worker
#                        (compose.yaml's `worker`); stop one with SIGTERM, it finishes its job.
# core.serve also serves every worker's Prometheus metrics on METRICS_HOST:METRICS_PORT
# (127.0.0.1:9464), and refuses METRICS_PORT = PORT: metrics never share the public port.
set -eu
cd "$(dirname "$0")/.."

alembic upgrade head
python -m modules.users.first_superuser

# core.serve is uvicorn told to read X-Forwarded-* only from TRUSTED_PROXIES, the same list the
# app's rate limits read (empty: trust nobody), as under `make run`.
exec python -m core.serve \
    --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --timeout-graceful-shutdown "${GRACEFUL_TIMEOUT:-30}"

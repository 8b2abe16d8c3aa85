#!/bin/sh
# The container's start command (and anyone's outside one): migrate, create the first superuser
# if FIRST_SUPERUSER_* are set, then serve. Settings come from the environment and .env.
#   HOST, PORT           where to listen (0.0.0.0:8000)
#   WEB_CONCURRENCY      worker processes (1); each has its own database pool
set -eu
cd "$(dirname "$0")/.."

alembic upgrade head
python -m modules.users.first_superuser

# uvicorn rewrites the client address and scheme from X-Forwarded-* only for the proxies the
# service trusts: the same TRUSTED_PROXIES the app's rate limits read (empty: trust nobody).
forwarded_allow_ips=$(python -c 'from core.config import get_settings
print(",".join(str(net) for net in get_settings().TRUSTED_PROXIES))')

exec uvicorn core.app:create_app --factory \
    --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --proxy-headers --forwarded-allow-ips "$forwarded_allow_ips" \
    --timeout-graceful-shutdown "${GRACEFUL_TIMEOUT:-30}"

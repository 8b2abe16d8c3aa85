# The service's image: dependencies from the pinned lock in a build stage, copied as one venv into
# a slim runtime that has no compiler, no pip cache and runs as an unprivileged user.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# Only what the dependency list is built from: this layer is reused until the pins change.
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -c requirements.lock ".[postgresql,redis]"

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --create-home --uid 10001 --gid app app \
    && mkdir -p /app/data \
    && chown app:app /app/data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY core ./core
COPY modules ./modules
COPY scripts/start.sh ./scripts/start.sh
# Compiled once here: with PYTHONDONTWRITEBYTECODE every start would otherwise compile the code again.
RUN python -m compileall -q core modules migrations

USER 10001:10001
# The API, and the Prometheus metrics (METRICS_PORT; bound to loopback unless METRICS_HOST opens it).
EXPOSE 8000 9464
# No curl in the slim image: Python asks /health (liveness, never the database).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=4)"]
# Migrate, create the first superuser if configured, then serve (WEB_CONCURRENCY workers).
CMD ["sh", "scripts/start.sh"]

ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir -c requirements.lock ".[postgresql,redis]"

COPY alembic.ini ./
COPY core ./core
COPY modules ./modules
COPY migrations ./migrations

EXPOSE 8000
CMD ["sh", "-c", "alembic upgrade head && python -m modules.users.first_superuser && uvicorn core.app:create_app --factory --host 0.0.0.0 --port 8000"]

# Production image for the Partner Portal (web, worker and beat all run from it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_MEDIA_ROOT=/app/media

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first so that code changes reuse this layer.
COPY pyproject.toml README.md* ./
RUN pip install .

COPY . .

# Static files are collected into the image (served by WhiteNoise).  The values below exist
# only for this build step; real ones come from the environment at run time.
RUN DJANGO_SECRET_KEY=build-only-not-secret \
    DATABASE_URL=postgresql://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown -R portal:portal /app/media

USER portal

EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--config=python:portal.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]

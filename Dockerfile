# Reveries code location image (Dagster gRPC code server on :4000).
# Used by Dagster+ Hybrid (dagster_cloud.yaml), the Helm chart's user deployment and ECS tasks;
# each run launched by K8sRunLauncher / EcsRunLauncher reuses this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home

# libpq for psycopg; nothing else is compiled (all dependencies ship wheels).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --create-home dagster \
    && mkdir -p "$DAGSTER_HOME" && chown -R dagster:dagster /opt/dagster

WORKDIR /opt/dagster/app

# Dependencies first (cached layer), pinned by requirements.lock.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY reveries_pipeline ./reveries_pipeline
RUN pip install --no-deps -c requirements.lock . \
    && python -c "import reveries_pipeline"

USER dagster:dagster

EXPOSE 4000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "reveries_pipeline.definitions"]

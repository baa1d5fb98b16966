# Reveries code location image (Dagster gRPC code server on :4000).
# Used by Dagster+ Hybrid (dagster_cloud.yaml), the Helm chart's user deployment and ECS tasks;
# each run launched by K8sRunLauncher / EcsRunLauncher reuses this image.
# python:3.11-slim (Debian trixie, Python 3.11.15), pinned by digest: the multi-platform index recorded
# by docker-library/repo-info in Aug 2026. Update both together.
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

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

# Dependencies first (cached layer): exactly the packages of requirements.lock, each checked against
# its sha256. The lock is the whole closure, so nothing is resolved (--no-deps; `pip check` below
# proves nothing is missing).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The project itself, with no dependency resolution and no build-time download: it builds with the
# base image's setuptools.
COPY pyproject.toml README.md ./
COPY reveries_pipeline ./reveries_pipeline
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && python -c "import reveries_pipeline"

USER dagster:dagster

EXPOSE 4000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "reveries_pipeline.definitions"]

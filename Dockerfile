# Two images from one file:
#   production (the default, last stage): the gateway, its worker and its commands, without
#     the simulators (sandbox/ is never copied in);
#   demo (--target demo): the same plus the four simulated backends, for compose.yaml's demo
#     profile (`commerce-gateway simulators`) and `commerce-gateway demo`.
# The base is pinned to a patch release; bump it deliberately, with the tests.
FROM python:3.11.14-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user of its own. /data holds the embedded SQLite database when no
# DATABASE_URL is given; /etc/commerce-gateway holds the node file (compose.yaml mounts it).
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin gateway \
    && mkdir -p /data /etc/commerce-gateway \
    && chown gateway:gateway /data /etc/commerce-gateway

WORKDIR /app

# Dependencies first, read from pyproject.toml alone: a change to the source reuses this
# layer, and only a change to the dependencies installs them again.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite+aiosqlite:////data/commerce-gateway.db


FROM base AS demo

COPY README.md ./
COPY gateway gateway
COPY resolvers resolvers
COPY adapters adapters
COPY sandbox sandbox
RUN pip install --no-deps . && rm -rf build ./*.egg-info

USER gateway
EXPOSE 8000 8101 8102 8103 8104
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; [u.urlopen(f'http://127.0.0.1:{p}/_sandbox/faults', timeout=2) for p in (8101, 8102, 8103, 8104)]"]
CMD ["commerce-gateway", "simulators", "--host", "0.0.0.0", "--nodes-file", "/etc/commerce-gateway/nodes.json"]


FROM base AS production

COPY README.md ./
COPY gateway gateway
COPY resolvers resolvers
COPY adapters adapters
RUN pip install --no-deps . && rm -rf build ./*.egg-info

USER gateway
VOLUME /data
EXPOSE 8000
# Alive, not ready: /readyz (database and cache) is for the orchestrator that routes
# traffic (compose.yaml). The worker's container replaces this check with its heartbeat.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=2)"]
CMD ["commerce-gateway", "serve"]

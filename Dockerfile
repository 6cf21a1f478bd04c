# hiksync container image. Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t hiksync .
# Builds with BuildKit and with the legacy builder (DOCKER_BUILDKIT=0): no `# syntax=` line (BuildKit would fetch
# that frontend from a registry) and no RUN --mount.
# Runs on a supported Node LTS (Node 20 is past end of life); the code stays Node 20 compatible.
#
# Build arguments (README: "Building the image without a registry, or behind a proxy"):
#   NODE_IMAGE      the base image; tools/container/base-image.sh builds an equivalent one without a registry.
#   EXTRA_CA_CERTS  PEM text of extra CA certificates, for a TLS-inspecting proxy: npm and apt in the build stages
#                   trust them. The runtime stage never sees them: not in the image's files, env or history.
#   HTTP_PROXY, HTTPS_PROXY, NO_PROXY (and lower case): Docker's predefined proxy arguments, passed on as usual.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build stages: network, devDependencies, the extra CA. Only what the runtime stage copies leaves them. --------
FROM ${NODE_IMAGE} AS build-base
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >/usr/local/share/build-extra-ca.pem; fi
# Empty (no extra CA) is ignored by node.
ENV NODE_EXTRA_CA_CERTS=${EXTRA_CA_CERTS:+/usr/local/share/build-extra-ca.pem}

FROM build-base AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are here. --omit=optional: the test-only ffmpeg
# binaries and esbuild's are optional packages, and tsc needs neither.
RUN npm ci --ignore-scripts --omit=optional --no-audit --no-fund
# Only the product: tools/ (synthetic share writer, demo) and bench/ are not built into the image.
COPY tsconfig.base.json tsconfig.json ./
COPY lib ./lib
COPY workers ./workers
RUN npx tsc -p tsconfig.json && chmod 0755 dist/lib/cli/main.js

FROM build-base AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# tini as PID 1: forwards SIGTERM/SIGINT to node (which stops cleanly, see docs/operations.md) and reaps zombies.
FROM build-base AS tini
RUN ca=${NODE_EXTRA_CA_CERTS:+-oAcquire::https::CAInfo=$NODE_EXTRA_CA_CERTS} \
 && apt-get $ca update \
 && apt-get $ca install -y --no-install-recommends tini

# ---- runtime: production dependencies + dist/ only; no network, no apt, no build argument ---------------------
FROM ${NODE_IMAGE} AS runtime
COPY --from=tini /usr/bin/tini /usr/bin/tini
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# `hiksync` on PATH: the entrypoint, the HEALTHCHECK and `docker exec <c> hiksync ...` all run it, so every
# command runs as the same user (PUID:PGID, or node 1000:1000; never root). /input is mounted read-only;
# /output is the only place written (besides /tmp).
COPY docker/hiksync.sh /usr/local/bin/hiksync
RUN chmod 0755 /usr/local/bin/hiksync \
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

# No USER: the container starts as root only so that /usr/local/bin/hiksync can switch to PUID:PGID (Synology's
# way of choosing the user); without them it switches to node (1000:1000). `docker run --user UID:GID` works too.
# Node's file-system threads (default 4), read once at start: a read of a hung camera share blocks one until the
# share answers. hiksync lets the share take all but one (docs/operations.md); more threads, more room.
ENV UV_THREADPOOL_SIZE=16
VOLUME ["/input", "/output"]

# Healthy while a pass runs with a fresh lock or the last pass completed recently; unhealthy when the share is
# missing/empty/hung or passes stop. The start period covers the time before the first pass takes its lock.
HEALTHCHECK --interval=1m --timeout=30s --start-period=3m --retries=3 CMD ["hiksync", "health"]

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/hiksync", "run"]
CMD []

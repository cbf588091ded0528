# Energy Bridge — Home Assistant add-on image.
# The default keeps builds working when the Supervisor passes no BUILD_FROM
# (Supervisor >= 2026.04 without build.yaml) and for plain `docker build .`.
ARG BUILD_FROM=ghcr.io/home-assistant/base:3.22

# ---------------------------------------------------------------- build stage
# Node.js 20, the version README.md and package.json `engines` name. Alpine's
# own `nodejs` package cannot give it: Alpine 3.22 (the base image) ships
# Node 22, and the last Alpine with Node 20 (3.20) is end-of-life. So the
# runtime comes from the official Node image built on the SAME Alpine (musl)
# release as BUILD_FROM: keep the `-alpine3.22` suffix equal to the base
# image's Alpine version here and in build.yaml (test/unit/packaging.test.ts
# checks it). The image is multi-arch (amd64, arm64v8), like the base.
FROM node:20-alpine3.22 AS build

# Toolchain for better-sqlite3's native addon on musl (used when no prebuilt
# binary matches the Node ABI / architecture). Build stage only.
# hadolint ignore=DL3018
RUN apk add --no-cache build-base python3

WORKDIR /app

COPY package.json package-lock.json ./
# Install scripts must run (better-sqlite3 builds or downloads its addon in
# its install script), so no --ignore-scripts here.
ENV npm_config_ignore_scripts=false \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
RUN npm ci \
    && if ! node -e "new (require('better-sqlite3'))(':memory:').close()"; then \
         npm rebuild better-sqlite3 --build-from-source; \
       fi \
    && node -e "new (require('better-sqlite3'))(':memory:').close()"

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compile, then drop every devDependency (TypeScript, vitest, msw, tsx, types):
# the node_modules the final stage copies holds production dependencies only.
RUN npm run build \
    && test -f dist/cli.js \
    && npm prune --omit=dev \
    && test ! -e node_modules/typescript \
    && test ! -e node_modules/vitest

# ---------------------------------------------------------------- final stage
# hadolint ignore=DL3006
FROM ${BUILD_FROM}

ARG BUILD_ARCH
ARG BUILD_VERSION=0.1.0

# The Node.js runtime of the build stage: one binary that needs only musl and
# libstdc++ (both in the base image). Same binary as the one better-sqlite3
# was built against, so the native addon's ABI matches. No npm, no toolchain.
# Put in /usr/bin, which s6-overlay's /init always keeps on the services' PATH.
COPY --from=build /usr/local/bin/node /usr/bin/node

ENV NODE_ENV=production

WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./

# Fail the build, not the add-on, if the runtime is not Node.js 20 or cannot
# load the native SQLite addon on this base image.
RUN node -e "const v = process.versions.node; if (v.split('.')[0] !== '20') { console.error('Node.js ' + v + ' is not 20'); process.exit(1); } new (require('/app/node_modules/better-sqlite3'))(':memory:').close();"

# s6-overlay service (run/finish) and anything else for the container's /.
COPY addon/rootfs /

# The health check makes sure the Node process is alive (the Supervisor
# watchdog restarts UNHEALTHY add-ons). It does not probe the web server: in
# add-on mode that answers only the Supervisor's ingress address (403 to
# anything else, a local probe included), and a module that failed to start is
# reported on the add-on's page and in the log, not by restarting the add-on.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD pgrep -f "/app/dist/cli.js run" > /dev/null || exit 1

LABEL \
    io.hass.name="Energy Bridge" \
    io.hass.description="Energy accounts into the Energy dashboard; entity mirror between instances" \
    io.hass.type="app" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.version="${BUILD_VERSION}" \
    io.hass.url="https://github.com/energy-bridge/energy-bridge" \
    org.opencontainers.image.title="Energy Bridge" \
    org.opencontainers.image.source="https://github.com/energy-bridge/energy-bridge" \
    org.opencontainers.image.licenses="MIT"

# Energy Bridge — Home Assistant add-on image.
# The default keeps builds working when the Supervisor passes no BUILD_FROM
# (Supervisor >= 2026.04 without build.yaml) and for plain `docker build .`.
ARG BUILD_FROM=ghcr.io/home-assistant/base:3.22

# ---------------------------------------------------------------- build stage
# hadolint ignore=DL3006
FROM ${BUILD_FROM} AS build

# Toolchain for better-sqlite3's native addon on musl (used when no prebuilt
# binary matches the Node ABI / architecture).
# hadolint ignore=DL3018
RUN apk add --no-cache nodejs npm build-base python3

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
RUN npm run build \
    && test -f dist/cli.js \
    && npm prune --omit=dev

# ---------------------------------------------------------------- final stage
# hadolint ignore=DL3006
FROM ${BUILD_FROM}

ARG BUILD_ARCH
ARG BUILD_VERSION=0.1.0

# Only the runtime; libstdc++ (needed by better-sqlite3) is in the base image.
# hadolint ignore=DL3018
RUN apk add --no-cache nodejs

ENV NODE_ENV=production

WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./

# s6-overlay service (run/finish) and anything else for the container's /.
COPY addon/rootfs /

# No HTTP server in this release: the health check only makes sure the
# Node process is alive (the Supervisor watchdog restarts UNHEALTHY add-ons).
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD pgrep -f "/app/dist/cli.js run" > /dev/null || exit 1

LABEL \
    io.hass.name="Energy Bridge" \
    io.hass.description="Linky consumption into Home Assistant long-term statistics" \
    io.hass.type="app" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.version="${BUILD_VERSION}" \
    io.hass.url="https://github.com/energy-bridge/energy-bridge" \
    org.opencontainers.image.title="Energy Bridge" \
    org.opencontainers.image.source="https://github.com/energy-bridge/energy-bridge" \
    org.opencontainers.image.licenses="MIT"

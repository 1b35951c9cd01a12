# syntax=docker/dockerfile:1
# Provenant's image: build with dev dependencies, run with production ones only,
# as a non-root user, with a health check on GET /healthz (see docs/kurrentdb.md).

# ---- build: compile TypeScript with the dev toolchain --------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Native modules (better-sqlite3) build from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY projections ./projections
COPY schemas ./schemas
RUN npm run build

# ---- deps: production dependencies only ----------------------------------------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# ---- runtime: compiled code, production modules, non-root ----------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PROVENANT_HOST=0.0.0.0 \
    PROVENANT_PORT=8080 \
    PROVENANT_DATA_DIR=/var/lib/provenant
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root schemas ./schemas
# The code is root-owned and read-only to the service user; only its data dir is writable.
RUN groupadd --system --gid 10001 provenant \
 && useradd --system --uid 10001 --gid provenant --home-dir /var/lib/provenant --shell /usr/sbin/nologin provenant \
 && mkdir -p /var/lib/provenant \
 && chown provenant:provenant /var/lib/provenant
USER provenant:provenant
EXPOSE 8080
VOLUME ["/var/lib/provenant"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/cli/main.js", "serve"]

# strata: an etcd v3 API server on SQL. Build: docker build -t strata .
# Stage 1 compiles TypeScript and installs production dependencies (better-sqlite3 builds natively).
# node 22 (20 is past its end of life): only from 22.10 can strata widen nghttp2's stream reset limit.
FROM node:22-bookworm-slim AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
# No .git in the build context: `strata --version` reports the commit given here
# (docker build --build-arg STRATA_GIT_SHA=$(git rev-parse HEAD) .).
ARG STRATA_GIT_SHA=
RUN STRATA_GIT_SHA=$STRATA_GIT_SHA npm run build && npm prune --omit=dev

# Stage 2: only what runs. node:22's image has the unprivileged user `node` (uid 1000).
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    STRATA_LISTEN_ADDRESS=0.0.0.0:2379 \
    STRATA_ENDPOINT=sqlite:///var/lib/strata/state.db
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/proto ./proto
RUN mkdir -p /var/lib/strata && chown node:node /var/lib/strata
USER node
VOLUME /var/lib/strata
EXPOSE 2379
# /health makes one database round trip (503 when the database is unreachable).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:2379/health',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]

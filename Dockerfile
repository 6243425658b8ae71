# syntax=docker/dockerfile:1

# test/docker/dockerfile.test.ts runs these stages outside Docker, so its
# parser must understand every instruction used here.

# Build stage: compiles src/ to dist/src with the full dev toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, the compiled service and the schema.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The cache mount keeps npm's download cache out of the image.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
# src/package-files.ts finds schema.graphql and package.json by walking up
# from dist/src, so both stay at the package root.
COPY schema.graphql ./
COPY --from=build /app/dist ./dist
USER node
# IMAGES_API_URL has no default and must be set at run time, such as
# docker run -e IMAGES_API_URL=https://dfw.servers.api.rackspacecloud.com/v2/010101.
EXPOSE 4001
# Slim images have no curl, so Node's fetch probes the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4001)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]

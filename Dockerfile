# dbwatch operator and CLI. Build: docker build -t dbwatch . (these machines have no Docker engine: there,
# `npm run image` builds the same layout with mmdebstrap and umoci — hack/build-image.sh).
# Layout: Debian trixie's nodejs (Node 20.19), /app/{package.json,node_modules,dist}, /usr/local/bin/dbwatch,
# user 1000:1000, entrypoint dbwatch.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.ts' -o -name '*.md' \) -delete \
 && chmod 755 dist/cli/main.js

FROM debian:trixie-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title=dbwatch \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.revision=$REVISION \
      org.opencontainers.image.source=https://github.com/dbwatch/dbwatch \
      org.opencontainers.image.licenses=Apache-2.0
RUN apt-get update && apt-get install -y --no-install-recommends nodejs ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && echo "dbwatch:x:1000:1000:dbwatch:/app:/usr/sbin/nologin" >> /etc/passwd \
 && echo "dbwatch:x:1000:" >> /etc/group
# Two malloc arenas, not one per thread that allocates (glibc's default, up to 8 per core): −10 MiB RSS per replica
# at 10,000 monitors over 3 (docs/performance.md, "Sharding").
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/cli/main.js /usr/local/bin/dbwatch
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["dbwatch"]
CMD ["operator"]

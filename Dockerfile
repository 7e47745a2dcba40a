# Build stage: better-sqlite3 compiles with node-gyp when no prebuilt binary fits, which needs these tools;
# they stay here and only the finished node_modules reaches the runtime image.
FROM node:24-bookworm-slim AS deps
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# package.json's allowScripts denies onnxruntime-node's install script (a download of CUDA libraries the CPU build
# never loads); an npm that predates allowScripts runs it, and the script skips itself when told so here.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund

# Same base as the build stage, so the compiled addon matches its Node and glibc.
FROM node:24-bookworm-slim
# Offline speech recognition (BSD); without it calls run on the keypad.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpocketsphinx3 pocketsphinx-en-us \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=deps /app/node_modules ./node_modules
COPY bin ./bin
COPY src ./src
COPY flows ./flows
# Trained intent models are cached in data/models (MODELS_DIR); the server writes it as the node user. It exists
# in the image so a named volume mounted there (docker-compose.yml) starts out owned by node, not root.
RUN mkdir -p /app/data/models && chown -R node:node /app/data
ENV HOST=0.0.0.0 PORT=8080 NODE_ENV=production
EXPOSE 8080
USER node
CMD ["node", "bin/switchboard.js", "serve"]

FROM node:20-bookworm-slim
# Offline speech recognition (BSD); without it calls run on the keypad.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpocketsphinx3 pocketsphinx-en-us \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY flows ./flows
# Trained intent models are cached here (MODELS_DIR); the server writes it as the node user.
RUN mkdir -p /app/data && chown node:node /app/data
ENV HOST=0.0.0.0 PORT=8080 NODE_ENV=production
EXPOSE 8080
USER node
CMD ["node", "bin/switchboard.js", "serve"]

/**
 * The floor a media server cannot go under: a bare websocket server that answers the voice webhook with a
 * `<Connect><Stream>` to itself and, on the stream, only parses each Twilio Media Streams message and decodes its
 * audio, answering nothing. `bench/capacity.ts silent` measures Switchboard's CPU per listening call against it.
 * Prints `listening on http://HOST:PORT`; runs until SIGTERM.
 * Usage: node --import tsx bench/bare-websocket.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

let decodedBytes = 0;
const http = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const { port } = http.address() as AddressInfo;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://127.0.0.1:${port}/media"/></Connect></Response>`,
    );
  });
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { event?: string; media?: { payload?: string } };
    if (message.event === 'media' && message.media?.payload) {
      decodedBytes += Buffer.from(message.media.payload, 'base64').length;
    }
  });
});
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.once('SIGTERM', () => {
  console.log(`decoded ${decodedBytes} bytes`);
  process.exit(0);
});

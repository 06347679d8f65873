'use strict';
/**
 * A small round-robin HTTP load balancer for the demo (node:http only, no
 * dependencies, no sticky sessions).
 *
 * Each request goes to the next backend in turn. If that backend cannot be
 * reached (connection refused, or the connection breaks before an answer for a
 * request that is safe to repeat), the request is tried on the next backend,
 * so killing a node does not fail requests. A backend that failed is skipped
 * for `retryAfter` ms, then tried again.
 *
 *   node scripts/demo-lb.js 8080 127.0.0.1:4000 127.0.0.1:4002
 */
const http = require('node:http');

/** Methods that may be sent twice: retried on any connection error before an answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Largest request body the balancer buffers (it keeps the body to retry). */
const MAX_BODY = 1024 * 1024;
/** Hop-by-hop headers are not forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/**
 * @param {{ backends: string[], retryAfter?: number, log?: (line: string) => void }} options
 *   backends are `host:port` addresses
 * @returns {http.Server}
 */
function createLoadBalancer({ backends, retryAfter = 1000, log = () => {} }) {
  if (!Array.isArray(backends) || backends.length === 0) throw new Error('createLoadBalancer needs at least one backend');
  const targets = backends.map((address) => {
    const at = address.lastIndexOf(':');
    return { address, host: address.slice(0, at), port: Number(address.slice(at + 1)), downUntil: 0 };
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let next = 0;

  /** Backends in the order to try for one request: round-robin, the ones that just failed last. */
  function order() {
    const start = next;
    next = (next + 1) % targets.length;
    const rotated = targets.map((_, i) => targets[(start + i) % targets.length]);
    const now = Date.now();
    return [...rotated.filter((t) => t.downUntil <= now), ...rotated.filter((t) => t.downUntil > now)];
  }

  const server = http.createServer((request, response) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        response.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large for the demo load balancer\n');
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.headersSent) return;
      forward(request, response, Buffer.concat(chunks), order(), 0);
    });
  });

  function forward(request, response, body, candidates, attempt) {
    const target = candidates[attempt];
    if (target === undefined) {
      response.writeHead(502, { 'content-type': 'text/plain' }).end('no demo node answered\n');
      return;
    }
    const headers = { ...request.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const client = request.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    headers['content-length'] = String(body.length);
    if (body.length === 0 && !['POST', 'PUT', 'PATCH'].includes(request.method)) delete headers['content-length'];

    let answered = false;
    const upstream = http.request({ host: target.host, port: target.port, method: request.method, path: request.url, headers, agent }, (reply) => {
      answered = true;
      target.downUntil = 0;
      const replyHeaders = { ...reply.headers };
      for (const name of HOP_BY_HOP) delete replyHeaders[name];
      response.writeHead(reply.statusCode ?? 502, reply.statusMessage, replyHeaders);
      reply.pipe(response);
      reply.on('error', () => response.destroy());
    });
    upstream.on('error', (error) => {
      if (answered) {
        response.destroy();
        return;
      }
      const neverReached = error.code === 'ECONNREFUSED' || (upstream.reusedSocket && error.code === 'ECONNRESET');
      target.downUntil = Date.now() + retryAfter;
      if (neverReached || IDEMPOTENT.has(request.method)) {
        log(`${target.address} failed (${error.code ?? error.message}); trying the next node`);
        forward(request, response, body, candidates, attempt + 1);
      } else {
        log(`${target.address} failed (${error.code ?? error.message}) after a ${request.method} was sent; not repeating it`);
        response.writeHead(502, { 'content-type': 'text/plain' }).end(`the demo node ${target.address} failed\n`);
      }
    });
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  server.on('close', () => agent.destroy());
  return server;
}

module.exports = { createLoadBalancer };

if (require.main === module) {
  const [port, ...backends] = process.argv.slice(2);
  if (!port || backends.length === 0) {
    console.error('usage: node scripts/demo-lb.js PORT HOST:PORT [HOST:PORT ...]');
    process.exit(2);
  }
  const server = createLoadBalancer({ backends, log: (line) => console.log(`[lb] ${line}`) });
  server.listen(Number(port), process.env.DEMO_HOST || '127.0.0.1', () => console.log(`[lb] http://${process.env.DEMO_HOST || '127.0.0.1'}:${port}/ -> ${backends.join(', ')}`));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}

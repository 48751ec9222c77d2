import http from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics for Prometheus, /healthz (the process serves), /readyz (caches synced). */
export async function startHttpServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => boolean;
  /** Errors after listening (e.g. EMFILE on accept): reported, never thrown. */
  onError?: (error: Error) => void;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = req.url?.split('?')[0];
    if (url === '/metrics') {
      options.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': options.registry.contentType });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    } else if (url === '/healthz') {
      res.writeHead(200).end('ok');
    } else if (url === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'caches not synced');
    } else {
      res.writeHead(404).end();
    }
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', fail);
      ok();
    });
  });
  server.on('error', (error) => options.onError?.(error));
  return server;
}

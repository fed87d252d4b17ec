import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';

/** A server that answers with its name, the method, path, one request header and the body it got. */
async function namedServer(name: string, onRequest?: () => void): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    onRequest?.();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    response.writeHead(201, { 'content-type': 'application/json', 'x-request-id': `${name}-1` });
    const text = JSON.stringify({ name, method: request.method, path: request.url, probe: request.headers['x-probe'] ?? null, body: Buffer.concat(chunks).toString() });
    // Two writes: the answer streams through in pieces.
    response.write(text.slice(0, 5));
    response.end(text.slice(5));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});
const stop = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('the round-robin proxy', () => {
  it('sends each request to the next upstream, forwarding method, path, headers and body, and the answer back whole', async () => {
    const servers = await Promise.all(['a', 'b', 'c'].map((name) => namedServer(name)));
    for (const { server } of servers) closing.push(() => stop(server));
    const proxy: RoundRobinProxy = await startRoundRobinProxy({ upstreams: servers.map((each) => each.url) });
    closing.push(() => proxy.close());
    const answers = [];
    for (let index = 0; index < 4; index += 1) {
      const response = await fetch(`${proxy.url}/graphql?x=${index}`, { method: 'POST', headers: { 'x-probe': `p${index}` }, body: `body-${index}` });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-request-id')).toMatch(/^[abc]-1$/);
      answers.push(await response.json());
    }
    expect(answers).toEqual([
      { name: 'a', method: 'POST', path: '/graphql?x=0', probe: 'p0', body: 'body-0' },
      { name: 'b', method: 'POST', path: '/graphql?x=1', probe: 'p1', body: 'body-1' },
      { name: 'c', method: 'POST', path: '/graphql?x=2', probe: 'p2', body: 'body-2' },
      { name: 'a', method: 'POST', path: '/graphql?x=3', probe: 'p3', body: 'body-3' },
    ]);
  });

  it('skips an upstream that refuses connections, sending the request to the next one; with none up it answers 503', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    closing.push(() => stop(a.server));
    const proxy = await startRoundRobinProxy({ upstreams: [a.url, b.url] });
    closing.push(() => proxy.close());
    await stop(b.server);
    const names = [];
    for (let index = 0; index < 4; index += 1) names.push(((await (await fetch(proxy.url)).json()) as { name: string }).name);
    expect(names).toEqual(['a', 'a', 'a', 'a']);
    expect(proxy.stats().get(b.url)).toMatchObject({ forwarded: 0, refused: 1 });
    await stop(a.server);
    closing.shift();
    const none = await fetch(proxy.url);
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('1');
  });

  it('does not retry a request an upstream received and then dropped: 502, counted as failed', async () => {
    let dropped = 0;
    const cutter = createServer((request) => {
      dropped += 1;
      request.socket.destroy();
    });
    await new Promise<void>((resolve) => cutter.listen(0, '127.0.0.1', resolve));
    const cutterUrl = `http://127.0.0.1:${(cutter.address() as AddressInfo).port}`;
    closing.push(() => stop(cutter));
    let reachedOther = 0;
    const other = await namedServer('other', () => (reachedOther += 1));
    closing.push(() => stop(other.server));
    const proxy = await startRoundRobinProxy({ upstreams: [cutterUrl, other.url] });
    closing.push(() => proxy.close());
    const response = await fetch(proxy.url, { method: 'POST', body: 'once' });
    expect(response.status).toBe(502);
    expect(dropped).toBe(1);
    expect(reachedOther).toBe(0);
    expect(proxy.stats().get(cutterUrl)).toMatchObject({ forwarded: 1, failed: 1 });
  });
});

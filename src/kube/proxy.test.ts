import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { bypassesProxy, openTunnel, parseProxyUrl, ProxyError, proxyFromEnvironment, redactProxyUrl } from './proxy.ts';
import { inClusterAccess, kubeAccessFromText } from './kubeconfig.ts';

const kubeconfig = (cluster: Record<string, unknown>) => JSON.stringify({
  'current-context': 'ctx',
  clusters: [{ name: 'prod', cluster: { server: 'https://api.example:6443', ...cluster } }],
  users: [{ name: 'me', user: { token: 't' } }],
  contexts: [{ name: 'ctx', context: { cluster: 'prod', user: 'me' } }],
});

describe('proxy URLs', () => {
  it('parses proxy-url: default ports, IPv6 hosts, credentials decoded into Proxy-Authorization only', () => {
    const p = parseProxyUrl('http://al%40ice:s3cr%3At@proxy.corp:3128', '/k/config', 'prod');
    expect([p.protocol, p.hostname, p.port, p.url, p.origin]).toEqual(['http:', 'proxy.corp', 3128, 'http://***@proxy.corp:3128', 'proxy-url of cluster "prod"']);
    expect(p.proxyAuthorization()).toBe(`Basic ${Buffer.from('al@ice:s3cr:t').toString('base64')}`);
    expect(String(p)).toBe('http://***@proxy.corp:3128 (proxy-url of cluster "prod")');
    // Logging the object whole does not show them either.
    for (const shown of [inspect(p, { showHidden: true, getters: true, depth: 5 }), JSON.stringify(p)]) expect(shown).not.toMatch(/s3cr|al%40ice|al@ice/);
    expect(parseProxyUrl('http://proxy', 'f', 'c').port).toBe(80);
    expect(parseProxyUrl('https://proxy', 'f', 'c').port).toBe(443);
    const socks = parseProxyUrl('socks5://[fd00::1]', 'f', 'c');
    expect([socks.protocol, socks.hostname, socks.port, socks.proxyAuthorization()]).toEqual(['socks5:', 'fd00::1', 1080, undefined]);
  });

  it('refuses a proxy-url it cannot use, naming the kubeconfig and cluster but not the credentials', () => {
    expect(() => parseProxyUrl('ftp://u:hunter2@proxy:2121', '/k/config', 'prod'))
      .toThrow('/k/config: cluster "prod" has proxy-url ftp://***@proxy:2121: supported are http://, https:// and socks5:// proxies, with a host');
    expect(() => parseProxyUrl('not a url hunter2', '/k/config', 'prod')).toThrow(/^\/k\/config: cluster "prod" has a proxy-url that is not a URL$/);
  });

  it('redacts user and password, path and query; prints nothing of a URL that does not parse', () => {
    expect(redactProxyUrl('http://user:pass@proxy:3128/path?key=v')).toBe('http://***@proxy:3128');
    expect(redactProxyUrl('http://token@proxy:3128')).toBe('http://***@proxy:3128');
    expect(redactProxyUrl('socks5://proxy:1080')).toBe('socks5://proxy:1080');
    expect(redactProxyUrl('::user:pass@')).toBe('<not a URL>');
  });
});

describe('proxies from the environment (client-go: http.ProxyFromEnvironment)', () => {
  const server = 'https://api.example:6443';
  it('HTTPS_PROXY for an https API server, HTTP_PROXY for an http one; upper case wins; no scheme means http', () => {
    expect(proxyFromEnvironment({}, server)).toBeUndefined();
    expect(proxyFromEnvironment({ HTTP_PROXY: 'http://p:1' }, server)).toBeUndefined();
    expect(String(proxyFromEnvironment({ HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }, server))).toBe('http://up:1 (HTTPS_PROXY)');
    expect(String(proxyFromEnvironment({ HTTPS_PROXY: '', https_proxy: 'http://low:1' }, server))).toBe('http://low:1 (https_proxy)');
    expect(String(proxyFromEnvironment({ HTTP_PROXY: 'proxy.corp:3128' }, 'http://api.example'))).toBe('http://proxy.corp:3128 (HTTP_PROXY)');
    expect(proxyFromEnvironment({ HTTPS_PROXY: 'socks5h://p' }, server)?.protocol).toBe('socks5:');
  });

  it('never for localhost or loopback addresses, nor what NO_PROXY matches', () => {
    const env = { HTTPS_PROXY: 'http://p:1' };
    for (const s of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://127.9.0.1', 'https://[::1]:6443']) expect(proxyFromEnvironment(env, s)).toBeUndefined();
    expect(proxyFromEnvironment({ ...env, NO_PROXY: 'other,.example' }, server)).toBeUndefined();
    expect(proxyFromEnvironment({ ...env, no_proxy: 'api.example' }, server)).toBeUndefined();
    expect(proxyFromEnvironment({ ...env, NO_PROXY: 'elsewhere' }, server)).toBeDefined();
  });

  it('a value that is no proxy URL is an error that does not echo its credentials', () => {
    expect(() => proxyFromEnvironment({ HTTPS_PROXY: 'ftp://u:hunter2@p' }, server)).toThrow('HTTPS_PROXY=ftp://***@p is not a proxy URL (http, https, socks5 or socks5h, with a host)');
  });

  it('NO_PROXY entries as Go\'s httpproxy reads them', () => {
    const cases: [string, string, string, boolean][] = [
      ['*', 'anything.example', '443', true],
      ['10.0.0.0/8', '10.96.0.1', '443', true],
      ['10.0.0.0/8', '11.0.0.1', '443', false],
      ['10.1.2.3/8', '10.200.0.1', '443', true], // host bits in a CIDR are ignored, as in Go
      ['fd00::/8', '[fd00::1]', '443', true],
      ['192.0.2.2', '192.0.2.2', '6443', true],
      ['192.0.2.2:6443', '192.0.2.2', '6443', true],
      ['192.0.2.2:443', '192.0.2.2', '6443', false],
      ['[fd00::2]:6443', '[fd00::2]', '6443', true],
      ['fd00:0::2', '[fd00::2]', '6443', true],
      ['example.com', 'example.com', '443', true],
      ['example.com', 'api.example.com', '443', true],
      ['example.com', 'notexample.com', '443', false],
      ['.example.com', 'example.com', '443', false],
      ['.example.com', 'api.example.com', '443', true],
      ['*.example.com', 'api.example.com', '443', true],
      ['example.com:6443', 'api.example.com', '443', false],
      [' , EXAMPLE.com ,', 'api.example.com', '443', true],
      ['bücher.example', 'xn--bcher-kva.example', '443', true],
      ['', 'api.example.com', '443', false],
    ];
    for (const [noProxy, host, port, bypass] of cases) expect([noProxy, host, bypassesProxy(noProxy, host, port)]).toEqual([noProxy, host, bypass]);
  });
});

describe('kubeconfig: which proxy', () => {
  it('proxy-url wins over the environment; without it the environment applies, in a Pod too', async () => {
    const env = { HTTPS_PROXY: 'http://from-env:1' };
    expect(String((await kubeAccessFromText(kubeconfig({ 'proxy-url': 'socks5://kc:1080' }), '/', env)).proxy)).toBe('socks5://kc:1080 (proxy-url of cluster "prod")');
    expect(String((await kubeAccessFromText(kubeconfig({}), '/', env)).proxy)).toBe('http://from-env:1 (HTTPS_PROXY)');
    expect((await kubeAccessFromText(kubeconfig({}), '/', {})).proxy).toBeUndefined();
    expect(String(inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1', ...env }, '/nonexistent').proxy)).toBe('http://from-env:1 (HTTPS_PROXY)');
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1', ...env, NO_PROXY: '10.96.0.0/12' }, '/nonexistent').proxy).toBeUndefined();
    await expect(kubeAccessFromText(kubeconfig({ 'proxy-url': 'gopher://u:pw@p' }))).rejects.toThrow('the kubeconfig: cluster "prod" has proxy-url gopher://***@p');
  });
});

describe('opening a tunnel', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  /** A proxy that answers each connection with `reply` after reading `requestBytes` (or a CONNECT header). */
  async function fakeProxy(answer: (request: Buffer, socket: Socket) => void): Promise<number> {
    server = createServer((socket) => socket.once('data', (b: Buffer) => answer(b, socket)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('a refused CONNECT is a ProxyError with the status and what to check, and no password', async () => {
    const port = await fakeProxy((_, s) => s.end('HTTP/1.1 407 Go Away\r\nProxy-Authenticate: Basic\r\n\r\n'));
    const err = await openTunnel(parseProxyUrl(`http://u:hunter2@127.0.0.1:${port}`, 'f', 'prod'), 'api.example', 6443).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(407);
    expect((err as Error).message).toBe(`the proxy http://***@127.0.0.1:${port} (proxy-url of cluster "prod") refused a tunnel to api.example:6443 (HTTP 407 Proxy Authentication Required): it rejected the user and password in its URL`);
  });

  it('an unreachable proxy is named as such', async () => {
    const port = await fakeProxy(() => undefined);
    server!.close();
    await expect(openTunnel(parseProxyUrl(`http://127.0.0.1:${port}`, 'f', 'c'), 'api.example', 443)).rejects.toThrow(`cannot reach the proxy http://127.0.0.1:${port} (proxy-url of cluster "c") (ECONNREFUSED)`);
  });

  it('SOCKS5: user/password, then CONNECT with an IPv4, IPv6 or host name address', async () => {
    const requests: Buffer[] = [];
    const port = await fakeProxy((greeting, s) => {
      expect([...greeting]).toEqual([5, 2, 0, 2]);
      s.write(Buffer.from([5, 2]));
      s.once('data', (auth: Buffer) => {
        expect(auth.toString('latin1')).toBe('\x01\x01u\x02pw');
        s.write(Buffer.from([1, 0]));
        s.once('data', (connect: Buffer) => {
          requests.push(connect);
          s.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        });
      });
    });
    const proxy = parseProxyUrl(`socks5://u:pw@127.0.0.1:${port}`, 'f', 'c');
    for (const host of ['192.0.2.7', 'fd00::2', '::ffff:192.0.2.7', 'api.example']) (await openTunnel(proxy, host, 6443)).destroy();
    const head = [5, 1, 0];
    const port6443 = [0x19, 0x2b];
    expect(requests.map((r) => [...r])).toEqual([
      [...head, 1, 192, 0, 2, 7, ...port6443],
      [...head, 4, 0xfd, 0, ...Array<number>(13).fill(0), 2, ...port6443],
      [...head, 4, ...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 7, ...port6443],
      [...head, 3, 11, ...Buffer.from('api.example'), ...port6443],
    ]);
  });

  it('SOCKS5: a rejected password and a refused CONNECT say which', async () => {
    const port = await fakeProxy((_, s) => {
      s.write(Buffer.from([5, 2]));
      s.once('data', () => s.write(Buffer.from([1, 1])));
    });
    await expect(openTunnel(parseProxyUrl(`socks5://u:hunter2@127.0.0.1:${port}`, 'f', 'c'), 'api.example', 443))
      .rejects.toThrow(`the SOCKS proxy socks5://***@127.0.0.1:${port} (proxy-url of cluster "c") rejected the user and password in its URL`);
    server!.close();
    const refusing = await fakeProxy((_, s) => {
      s.write(Buffer.from([5, 0]));
      s.once('data', () => s.write(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
    });
    await expect(openTunnel(parseProxyUrl(`socks5://127.0.0.1:${refusing}`, 'f', 'c'), 'api.example', 443))
      .rejects.toThrow('refused a tunnel to api.example:443: connection refused');
  });
});

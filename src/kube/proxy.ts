// Proxies between the operator and the API server, as client-go uses them: a cluster's `proxy-url` in the
// kubeconfig, else HTTPS_PROXY / HTTP_PROXY with NO_PROXY exceptions (Go's http.ProxyFromEnvironment). Every
// connection to the API server is a tunnel through the proxy: HTTP CONNECT for http:// and https:// proxies, the
// SOCKS5 CONNECT command for socks5:// ones. TLS to the API server runs inside the tunnel, end to end.
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import { BlockList, connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, getCACertificates } from 'node:tls';
import { domainToASCII } from 'node:url';

/** A proxy failed to open a tunnel; the message names the proxy by its redacted URL, never its credentials. */
export class ProxyError extends Error {
  /** The HTTP status a proxy refused CONNECT with. */
  readonly status?: number;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProxyError';
    this.status = options.status;
  }
}

const defaultPorts: Record<string, number> = { 'http:': 80, 'https:': 443, 'socks5:': 1080 };

/** A proxy URL, parsed. Its credentials are private fields: inspecting or logging the object does not show them. */
export class ProxyServer {
  readonly protocol: 'http:' | 'https:' | 'socks5:';
  /** Without IPv6 brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The URL with any user and password replaced by `***`: what messages and logs show. */
  readonly url: string;
  /** Where it was configured, e.g. `HTTPS_PROXY`, or the kubeconfig cluster's `proxy-url`. */
  readonly origin: string;
  readonly #username?: string;
  readonly #password?: string;

  constructor(url: URL, origin: string) {
    this.protocol = url.protocol === 'socks5h:' ? 'socks5:' : url.protocol as ProxyServer['protocol'];
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port ? Number(url.port) : defaultPorts[this.protocol]!;
    this.url = redacted(url);
    this.origin = origin;
    if (url.username || url.password) {
      this.#username = percentDecoded(url.username);
      this.#password = percentDecoded(url.password);
    }
  }

  /** `http://***@proxy:3128 (HTTPS_PROXY)`: for messages. */
  toString(): string {
    return `${this.url} (${this.origin})`;
  }

  /** A method, not a getter: util.inspect({ getters: true }) would show a getter's value. */
  credentials(): { username: string; password: string } | undefined {
    return this.#username === undefined ? undefined : { username: this.#username, password: this.#password ?? '' };
  }

  /** Go's transport sends user and password of the URL as Basic credentials on CONNECT. */
  proxyAuthorization(): string | undefined {
    const c = this.credentials();
    return c && `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }
}

/** URLs keep user and password percent-encoded; a malformed escape is taken literally. */
function percentDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A proxy URL fit for messages: user and password replaced by `***`, and nothing at all if it does not parse. */
export function redactProxyUrl(raw: string): string {
  try {
    return redacted(new URL(raw));
  } catch {
    return '<not a URL>'; // the credentials cannot be told apart from the rest
  }
}

/** Scheme, `***@` for credentials, host and port: a proxy's path and query mean nothing (Go ignores them). */
const redacted = (url: URL) => `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}`;

/** `proxy-url` of kubeconfig cluster `cluster`: http, https or socks5, as client-go validates it. */
export function parseProxyUrl(raw: string, kubeconfig: string, cluster: string): ProxyServer {
  const where = `${kubeconfig}: cluster "${cluster}"`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${where} has a proxy-url that is not a URL`);
  }
  if (!['http:', 'https:', 'socks5:'].includes(url.protocol) || !url.hostname) {
    throw new Error(`${where} has proxy-url ${redactProxyUrl(raw)}: supported are http://, https:// and socks5:// proxies, with a host`);
  }
  return new ProxyServer(url, `proxy-url of cluster "${cluster}"`);
}

/** An environment proxy value: as Go's httpproxy reads it, a value without a scheme is an http:// proxy. */
function parseEnvProxy(raw: string, name: string): ProxyServer {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`${name} is not a proxy URL`);
  }
  if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol) || !url.hostname) {
    throw new Error(`${name}=${redactProxyUrl(withScheme)} is not a proxy URL (http, https, socks5 or socks5h, with a host)`);
  }
  return new ProxyServer(url, name);
}

/** The first non-empty of the variables, with its name (Go's httpproxy prefers the upper-case spelling). */
function envAny(env: NodeJS.ProcessEnv, ...names: string[]): [string, string] | undefined {
  for (const n of names) if (env[n]) return [n, env[n]];
  return undefined;
}

/**
 * The proxy client-go's http.ProxyFromEnvironment picks for `server`: HTTPS_PROXY for an https API server,
 * HTTP_PROXY for an http one, none for localhost, loopback addresses and hosts NO_PROXY matches.
 */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv, server: string): ProxyServer | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined; // requests will say what is wrong with the server
  }
  const chosen = url.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy');
  const port = url.port || String(defaultPorts[url.protocol] ?? '');
  if (!chosen || bypassesProxy(envAny(env, 'NO_PROXY', 'no_proxy')?.[1] ?? '', url.hostname, port)) return undefined;
  // Go would silently go direct on a value it cannot parse; refusing to start says what to fix.
  return parseEnvProxy(chosen[1], chosen[0]);
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const family = (ip: string) => isIP(ip) === 6 ? 'ipv6' : 'ipv4';

/**
 * Whether a connection to host:port goes direct: Go's httpproxy rules. Never proxied: `localhost` and loopback
 * addresses. NO_PROXY is a comma list of `*` (everything), IP addresses and CIDR ranges (`10.0.0.0/8`), and
 * domains: `example.com` matches it and its subdomains, `.example.com` and `*.example.com` only subdomains; IPs
 * and domains may carry a `:port`.
 */
export function bypassesProxy(noProxy: string, hostname: string, port: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const ip = isIP(host) ? host : undefined;
  if (host === 'localhost' || (ip && loopback.check(ip, family(ip)))) return true;
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!)) {
      const list = new BlockList();
      const bits = Number(cidr[2]);
      if (bits > (isIP(cidr[1]!) === 6 ? 128 : 32)) continue;
      list.addSubnet(cidr[1]!, bits, family(cidr[1]!));
      if (ip && list.check(ip, family(ip))) return true;
      continue;
    }
    // host:port or [ipv6]:port; a bare IPv6 address has more than one colon and no port
    const hp = /^\[([^\]]*)\]:(.*)$/.exec(entry) ?? (entry.split(':').length === 2 ? /^([^:]*):(.*)$/.exec(entry) : null);
    let pattern = (hp ? hp[1]! : entry).replace(/^\[|\]$/g, '');
    const entryPort = hp ? hp[2]! : '';
    if (!pattern || (entryPort && entryPort !== port)) continue;
    if (isIP(pattern)) {
      const list = new BlockList();
      list.addAddress(pattern, family(pattern));
      if (ip && list.check(ip, family(ip))) return true;
      continue;
    }
    if (pattern.startsWith('*.')) pattern = pattern.slice(1);
    const exactToo = !pattern.startsWith('.');
    const suffix = domainToASCII(exactToo ? pattern : pattern.slice(1)) || pattern.replace(/^\./, '');
    if (host.endsWith(`.${suffix}`) || (exactToo && host === suffix)) return true;
  }
  return false;
}

/** Opening a tunnel (TCP, TLS to an https proxy, the CONNECT exchange) longer than this fails it. */
const tunnelTimeoutMs = 30_000;
const networkCodes = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'];

/**
 * An agent whose every connection is a tunnel through `proxy` to the host and port of the request; with `secure`,
 * TLS to the API server (with the agent's options) runs inside it. An https:// proxy is verified against Node's
 * CAs and the kubeconfig's certificate-authority (client-go uses the latter), and insecure-skip-tls-verify skips
 * that check too, as in client-go.
 */
export function tunnellingAgent(proxy: ProxyServer, secure: boolean, options: https.AgentOptions): http.Agent {
  const agent = secure ? new https.Agent(options) : new http.Agent(options);
  const overTunnel = agent.createConnection.bind(agent); // https.Agent's: TLS on the socket given in the options
  const proxyTls = {
    ca: options.ca ? [...getCACertificates('default'), ...[options.ca].flat()] : undefined,
    rejectUnauthorized: options.rejectUnauthorized !== false,
  };
  agent.createConnection = (opts, callback) => {
    openTunnel(proxy, opts.host ?? 'localhost', Number(opts.port), proxyTls).then(
      (socket) => callback!(null, secure ? overTunnel({ ...opts, socket } as never, undefined)! : socket),
      (err: unknown) => callback!(err as Error, undefined as never),
    );
    return undefined;
  };
  return agent;
}

/** A socket to the proxy on which host:port has been CONNECTed, ready for the API server's bytes. */
export async function openTunnel(proxy: ProxyServer, host: string, port: number, proxyTls: { ca?: (string | Buffer)[]; rejectUnauthorized: boolean } = { rejectUnauthorized: true }): Promise<Socket> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const secure = proxy.protocol === 'https:';
  const socket = secure
    ? tlsConnect({ host: proxy.hostname, port: proxy.port, servername: isIP(proxy.hostname) ? undefined : proxy.hostname, ...proxyTls })
    : netConnect({ host: proxy.hostname, port: proxy.port });
  socket.setTimeout(tunnelTimeoutMs, () => socket.destroy(new ProxyError(`the proxy ${proxy} did not open a tunnel to ${target} within ${tunnelTimeoutMs / 1000} s`)));
  try {
    await once(socket, secure ? 'secureConnect' : 'connect');
    if (proxy.protocol === 'socks5:') await socksConnect(socket, proxy, host, port, target);
    else await httpConnect(socket, proxy, target);
    socket.setTimeout(0);
    return socket;
  } catch (e) {
    socket.destroy();
    if (e instanceof ProxyError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (networkCodes.includes(err.code ?? '')) throw new ProxyError(`cannot reach the proxy ${proxy} (${err.code})`, { cause: e });
    if (secure) throw new ProxyError(`TLS to the proxy ${proxy} failed: ${err.message}`, { cause: e });
    throw new ProxyError(`the proxy ${proxy} failed: ${err.message}`, { cause: e });
  }
}

async function httpConnect(socket: Socket, proxy: ProxyServer, target: string): Promise<void> {
  const auth = proxy.proxyAuthorization();
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  const head = (await readReply(socket, (b) => {
    const end = b.indexOf('\r\n\r\n');
    if (end < 0 && b.length > 16_384) throw new ProxyError(`the proxy ${proxy} answered CONNECT with an oversized header`);
    return end < 0 ? undefined : end + 4;
  }, proxy)).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  if (!status) throw new ProxyError(`the proxy ${proxy} did not answer CONNECT with HTTP`);
  if (status >= 200 && status < 300) return;
  // The proxy's own reason text is not repeated: the standard phrase says the same and is not attacker-chosen.
  const hint = status === 407
    ? (auth ? ': it rejected the user and password in its URL' : ': it wants credentials, http://<user>:<password>@host:port')
    : status === 403 ? ': it does not allow tunnels to the API server'
      : status >= 502 && status <= 504 ? ': it could not reach the API server' : '';
  const phrase = http.STATUS_CODES[status] ? ` ${http.STATUS_CODES[status]}` : '';
  throw new ProxyError(`the proxy ${proxy} refused a tunnel to ${target} (HTTP ${status}${phrase})${hint}`, { status });
}

const socksReplies: Record<number, string> = {
  1: 'general failure', 2: 'not allowed by its rules', 3: 'network unreachable', 4: 'host unreachable',
  5: 'connection refused', 6: 'TTL expired', 7: 'command not supported', 8: 'address type not supported',
};

/** RFC 1928 CONNECT, with RFC 1929 user/password when the URL has them; host names are resolved by the proxy. */
async function socksConnect(socket: Socket, proxy: ProxyServer, host: string, port: number, target: string): Promise<void> {
  const creds = proxy.credentials();
  socket.write(Buffer.from(creds ? [5, 2, 0, 2] : [5, 1, 0]));
  const [, method] = await readReply(socket, (b) => b.length >= 2 ? 2 : undefined, proxy);
  if (method === 2 && creds) {
    const user = Buffer.from(creds.username);
    const pass = Buffer.from(creds.password);
    if (user.length > 255 || pass.length > 255) throw new ProxyError(`the user or password in the URL of the SOCKS proxy ${proxy} is longer than 255 bytes`);
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const [, status] = await readReply(socket, (b) => b.length >= 2 ? 2 : undefined, proxy);
    if (status !== 0) throw new ProxyError(`the SOCKS proxy ${proxy} rejected the user and password in its URL`);
  } else if (method !== 0) {
    throw new ProxyError(`the SOCKS proxy ${proxy} accepts none of the offered authentications${creds ? '' : ' (it may want socks5://<user>:<password>@host:port)'}`);
  }
  const kind = isIP(host);
  const name = Buffer.from(host);
  const address = kind === 4 ? Buffer.from([1, ...host.split('.').map(Number)])
    : kind === 6 ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
      : Buffer.concat([Buffer.from([3, name.length]), name]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 255])]));
  const reply = await readReply(socket, (b) => {
    if (b.length < 5) return undefined;
    const length = 4 + (b[3] === 1 ? 4 : b[3] === 4 ? 16 : 1 + b[4]!) + 2;
    return b.length >= length ? length : undefined;
  }, proxy);
  if (reply[1] !== 0) throw new ProxyError(`the SOCKS proxy ${proxy} refused a tunnel to ${target}: ${socksReplies[reply[1]!] ?? `reply ${reply[1]}`}`);
}

function ipv6Bytes(ip: string): Buffer {
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    ip = `${ip.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const groups = [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
}

/**
 * Reads until `complete` says how many bytes the reply has, and puts back anything after it. 'readable' rather
 * than 'data': a 'data' listener would leave the socket flowing, dropping bytes before TLS or HTTP take it over.
 */
function readReply(socket: Socket, complete: (b: Buffer) => number | undefined, proxy: ProxyServer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = () => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const onEnd = () => onError(new ProxyError(`the proxy ${proxy} closed the connection while opening a tunnel`));
    const onReadable = () => {
      try {
        for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) {
          buffered = Buffer.concat([buffered, chunk]);
          const n = complete(buffered);
          if (n === undefined) continue;
          done();
          if (n < buffered.length) socket.unshift(buffered.subarray(n));
          resolve(buffered.subarray(0, n));
          return;
        }
      } catch (e) {
        onError(e as Error);
      }
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', onError);
  });
}

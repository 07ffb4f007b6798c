// Streams a metric source's body over HTTP(S) with the guards an operator-given URL needs:
//
//   address — every address the host resolves to (and an IP literal host) is checked by
//             address-policy.ts before connecting, and the connection uses the checked address,
//             so a DNS answer cannot change between the check and the connect; each redirect
//             hop (at most MAX_REDIRECTS, http/https only) is checked again;
//   time    — one deadline (COLLECT_TIMEOUT_MS) for the whole collection, headers to last byte;
//   size    — at most COLLECT_MAX_BYTES, refused from Content-Length when it says more and
//             counted while reading otherwise, so the body is never buffered whole.
//
// Failures are typed: SourceRefusedError (the address or URL is not allowed, or the source
// answered 4xx: retrying cannot help), SourceFetchError (network, 5xx), SourceTimeoutError and
// SourceTooLargeError. The job's own cancellation surfaces as the signal's reason.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isNonPublicAddress } from './address-policy.ts';

export const MAX_REDIRECTS = 5;

export interface SourceStreamOptions {
  timeoutMs: number;
  maxBytes: number;
  allowPrivateNetworks: boolean;
  /** The job's signal: aborting it stops the transfer. */
  signal: AbortSignal;
}

export class SourceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceRefusedError';
  }
}

export class SourceFetchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SourceFetchError';
  }
}

export class SourceTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the source did not finish within COLLECT_TIMEOUT_MS (${timeoutMs} ms)`);
    this.name = 'SourceTimeoutError';
  }
}

export class SourceTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`the source is larger than COLLECT_MAX_BYTES (${maxBytes} bytes)`);
    this.name = 'SourceTooLargeError';
  }
}

/** Yields the body of `url` chunk by chunk, following redirects, within the limits. */
export async function* streamSource(url: string, options: SourceStreamOptions): AsyncGenerator<Buffer> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const failure = (error: unknown): unknown => {
    if (options.signal.aborted) return options.signal.reason;
    if (timeout.aborted) return new SourceTimeoutError(options.timeoutMs);
    return error;
  };

  let response: IncomingMessage;
  try {
    response = await openFollowingRedirects(new URL(url), options, signal);
  } catch (error) {
    throw failure(error);
  }
  try {
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length > options.maxBytes) throw new SourceTooLargeError(options.maxBytes);
    let bytes = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) throw new SourceTooLargeError(options.maxBytes);
      yield chunk;
    }
    if (signal.aborted) throw signal.reason;
  } catch (error) {
    throw error instanceof SourceTooLargeError ? error : failure(error);
  } finally {
    response.destroy();
  }
}

async function openFollowingRedirects(
  start: URL,
  options: SourceStreamOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  let url = start;
  for (let hop = 0; ; hop += 1) {
    const response = await open(url, options.allowPrivateNetworks, signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
      response.destroy();
      if (hop >= MAX_REDIRECTS) throw new SourceRefusedError(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      continue;
    }
    if (status >= 200 && status < 300) return response;
    response.destroy();
    const message = `${url.origin}${url.pathname} answered HTTP ${status}`;
    throw status >= 400 && status < 500 ? new SourceRefusedError(message) : new SourceFetchError(message);
  }
}

function open(url: URL, allowPrivate: boolean, signal: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(
      new SourceRefusedError(`only http and https sources are collected, not ${url.protocol}`),
    );
  }
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(literal) !== 0 && isNonPublicAddress(literal)) {
    return Promise.reject(refusedAddress(url.hostname, literal));
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      { signal, lookup: allowPrivate ? undefined : publicOnlyLookup, headers: { accept: '*/*' } },
      resolve,
    );
    request.on('error', (error) =>
      reject(
        error instanceof SourceRefusedError ? error : new SourceFetchError(error.message, { cause: error }),
      ),
    );
  });
}

/** dns.lookup that fails when any address of the host is not public (see address-policy.ts). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const refused = addresses.find((entry) => isNonPublicAddress(entry.address));
    if (refused !== undefined) {
      callback(refusedAddress(hostname, refused.address) as NodeJS.ErrnoException, '', 0);
      return;
    }
    if (options.all) {
      (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      return;
    }
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

function refusedAddress(host: string, address: string): SourceRefusedError {
  return new SourceRefusedError(
    `${host} resolves to ${address}, a private, loopback or link-local address; set COLLECT_ALLOW_PRIVATE_NETWORKS=true to allow it`,
  );
}

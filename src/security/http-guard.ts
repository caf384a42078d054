import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Address ranges a task may not call unless allow-listed: loopback, link-local, private and the like. */
const blockedRanges = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'loopback',
  'carrierGradeNat',
  'private',
  'reserved',
  'uniqueLocal',
  'ipv4Mapped',
  'rfc6145',
  'rfc6052',
  '6to4',
  'teredo',
]);

const hostName = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/** Decides which http(s) targets tasks may call. */
export interface HttpGuard {
  /** @returns why `url` is refused, or undefined if it may be called. */
  refuse(url: string): string | undefined;
  /**
   * The check after resolution: may a connection to `host` go to `address`? An allow-listed host name may resolve
   * to anything; otherwise a loopback/link-local/private/reserved address is refused unless an allow-listed IP or
   * CIDR contains it (so a name resolving to an allow-listed IP is allowed).
   * @returns why the address is refused, or undefined if it may be connected to.
   */
  refuseAddress(host: string, address: string): string | undefined;
}

/** Thrown (as a connection error) when a host name resolves to an address the guard refuses. */
export class HttpTargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpTargetRefusedError';
  }
}

/** Resolves a host name to every address it has (as `dns.lookup(host, { all: true })` does). */
export type HostResolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/** The host as the guard compares it: no brackets, no trailing dot (`localhost.` names `localhost`), lower case. */
const normalHost = (host: string): string =>
  host
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();

/**
 * A `lookup` for `net.connect` (undici's `connect.lookup`): resolves the host once, checks every address with the
 * guard and hands only checked addresses to the socket, so the address connected to is exactly one that was
 * checked (no second lookup a rebinding DNS server could answer differently). Addresses the guard refuses are
 * dropped; when none is left the connection fails with {@link HttpTargetRefusedError}.
 */
export function guardedLookup(guard: HttpGuard, resolve: HostResolver = systemResolver): LookupFunction {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
    resolve(hostname).then(
      (addresses) => {
        const reasons: string[] = [];
        const allowed = addresses.filter(({ address }) => {
          const refused = guard.refuseAddress(hostname, address);
          if (refused) reasons.push(refused);
          return !refused;
        });
        const usable = allowed.filter((a) => family === 0 || a.family === family);
        const first = usable[0];
        if (!first) {
          const why = reasons[0] ?? `${hostname} has no ${family ? `IPv${family} ` : ''}address`;
          callback(new HttpTargetRefusedError(`${hostname} resolves to a refused address: ${why}`), '', 0);
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Builds the guard from `SURECRON_HTTP_ALLOWLIST`: comma-separated host names (exact) and CIDRs or IPs that are
 * allowed even though they are loopback, link-local or private.
 * @throws {Error} when an entry is neither a host name nor a CIDR.
 */
export function createHttpGuard(allowlist = ''): HttpGuard {
  const hosts = new Set<string>();
  const cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of allowlist.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const invalid = new Error(`SURECRON_HTTP_ALLOWLIST: "${entry}" is neither a host name, an IP nor a CIDR`);
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw invalid;
      cidrs.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry) && (entry.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(entry))) {
      const address = ipaddr.parse(entry);
      cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (hostName.test(entry)) hosts.add(entry);
    else throw invalid;
  }
  const allowedAddress = (address: ipaddr.IPv4 | ipaddr.IPv6): boolean =>
    cidrs.some(([range, bits]) => address.kind() === range.kind() && address.match(range, bits));
  const refuseIp = (text: string): string | undefined => {
    let address = ipaddr.parse(text);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    const range = address.range();
    if (blockedRanges.has(range) && !allowedAddress(address)) {
      return `${text} is a ${range} address; add it to SURECRON_HTTP_ALLOWLIST to allow it`;
    }
    return undefined;
  };

  return {
    refuse(url: string): string | undefined {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return `"${url}" is not a URL`;
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        return `scheme "${parsed.protocol}" is not http(s)`;
      // A trailing dot (`localhost.`) names the same host.
      const host = normalHost(parsed.hostname);
      if (hosts.has(host)) return undefined;
      if (ipaddr.isValid(host)) return refuseIp(host);
      // `localhost` is loopback by definition (RFC 6761): refused by name unless the name itself is allow-listed,
      // even when a loopback IP is (an IP in the allow-list does not allow a name that is loopback by definition).
      if (host === 'localhost' || host.endsWith('.localhost')) {
        return `${host} is loopback; add it to SURECRON_HTTP_ALLOWLIST to allow it`;
      }
      // Any other name is checked again after resolution (refuseAddress, via guardedLookup).
      return undefined;
    },
    refuseAddress(host: string, address: string): string | undefined {
      const name = normalHost(host);
      if (hosts.has(name)) return undefined;
      if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
      const refused = refuseIp(address);
      return refused ? `${name} → ${refused}` : undefined;
    },
  };
}

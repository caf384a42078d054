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
}

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
      const host = parsed.hostname
        .replace(/^\[|\]$/g, '')
        .replace(/\.+$/, '')
        .toLowerCase();
      if (hosts.has(host)) return undefined;
      if (ipaddr.isValid(host)) {
        let address = ipaddr.parse(host);
        if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
          address = (address as ipaddr.IPv6).toIPv4Address();
        }
        const range = address.range();
        if (blockedRanges.has(range) && !allowedAddress(address)) {
          return `${host} is a ${range} address; add it to SURECRON_HTTP_ALLOWLIST to allow it`;
        }
        return undefined;
      }
      if (host === 'localhost' || host.endsWith('.localhost')) {
        return `${host} is loopback; add it to SURECRON_HTTP_ALLOWLIST to allow it`;
      }
      return undefined;
    },
  };
}

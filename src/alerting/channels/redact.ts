const secretParams = new Set(['key', 'access_token', 'token', 'sign']);

/**
 * Hides the secret parts of a webhook URL so it can be logged: values of the `key`, `access_token`, `token` and
 * `sign` query parameters, a password in the user-info, and every path segment after Slack's `/services/` become
 * `***`. Anything that does not parse as a URL is hidden entirely.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '***';
  }
  if (parsed.password) parsed.password = '***';
  const services = parsed.pathname.indexOf('/services/');
  if (services !== -1) {
    const prefix = parsed.pathname.slice(0, services + '/services/'.length);
    const rest = parsed.pathname.slice(prefix.length);
    parsed.pathname = prefix + rest.replace(/[^/]+/g, '***');
  }
  if (parsed.search) {
    parsed.search = parsed.search
      .slice(1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const name = eq === -1 ? pair : pair.slice(0, eq);
        return eq !== -1 && secretParams.has(safeDecode(name).toLowerCase()) ? `${name}=***` : pair;
      })
      .join('&');
  }
  return parsed.href;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

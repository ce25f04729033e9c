/**
 * Node's network errors in the words of Go's net and crypto/tls packages, which is what Docker's
 * pull and push print (`dial tcp 127.0.0.1:9: connect: connection refused`, `dial tcp: lookup
 * <host>: no such host`, `read tcp a->b: read: connection reset by peer`): scripts match these.
 * An error this module does not know keeps its own message.
 */

/** Where the exchange's socket was, when it had connected: Go's OpError names both ends. */
export interface SocketEnds {
  local?: string;
  remote?: string;
}

/** syscall.Errno's texts (Linux), for the codes a registry exchange meets. */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EPIPE: 'broken pipe',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** OpenSSL's verification codes that Go reports as an unknown authority. */
const UNKNOWN_AUTHORITY = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

interface NodeNetError extends NodeJS.ErrnoException {
  address?: string;
  port?: number;
  hostname?: string;
  host?: string;
  cert?: { subjectaltname?: string };
  errors?: unknown[];
  /** Set by http-client: the socket's ends when it failed. */
  ends?: SocketEnds;
}

/** `host:port` as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's text for a failed exchange, or the error's own message when there is no Go equivalent. */
export function goNetErrorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let e = err as NodeNetError;
  // Node tries every address of a name (happy eyeballs) and reports all failures; Go names the first.
  if (e.name === 'AggregateError' && Array.isArray(e.errors) && e.errors[0] instanceof Error) e = e.errors[0] as NodeNetError;
  const code = e.code ?? '';
  if (e.syscall === 'getaddrinfo' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = e.hostname ?? '';
    if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_NODATA') return `dial tcp: lookup ${host}: no such host`;
    if (code === 'EAI_AGAIN') return `dial tcp: lookup ${host}: Temporary failure in name resolution`;
  }
  const errno = ERRNO_TEXT[code];
  if (errno && e.syscall === 'connect' && e.address !== undefined && e.port !== undefined) {
    return `dial tcp ${joinHostPort(e.address, e.port)}: connect: ${errno}`;
  }
  if (code === 'ECONNRESET' && /socket hang up/.test(e.message)) {
    // The server closed the connection without answering: Go's transport reports io.EOF.
    return 'EOF';
  }
  if (errno && (e.syscall === 'read' || e.syscall === 'write')) {
    const ends = e.ends?.local && e.ends.remote ? ` ${e.ends.local}->${e.ends.remote}` : '';
    return `${e.syscall} tcp${ends}: ${e.syscall}: ${errno}`;
  }
  if (UNKNOWN_AUTHORITY.has(code)) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: ${nameMismatchText(e)}`;
  return e.message;
}

/** x509.HostnameError: `certificate is valid for a, b, not host`. */
function nameMismatchText(e: NodeNetError): string {
  const host = e.host ?? '';
  const names = (e.cert?.subjectaltname ?? '')
    .split(/,\s*/)
    .map((n) => /^(?:DNS|IP Address):(.*)$/.exec(n.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1] ?? '');
  if (names.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${names.join(', ')}, not ${host}`;
}

/**
 * Credentials a client sends in `X-Registry-Auth`: base64url (RFC 4648 §5, padded) JSON, as
 * Docker's api/types/registry.DecodeAuthConfig reads it, and which registry host they are for.
 */
import { InvalidArgumentError } from '../errors.js';
import { goJsonSyntaxError } from '../util/go-json-syntax.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  /** Base64 `user:password`; clients decode it into username/password before sending. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  /** An OAuth refresh token, exchanged at the token realm for an access token. */
  identitytoken?: string;
  /** A bearer token sent to the registry as is. */
  registrytoken?: string;
}

export const AUTH_HEADER = 'X-Registry-Auth';

const STRING_FIELDS = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;

/**
 * Decodes the header; an empty header is an empty config. Errors read as Docker's
 * (`invalid X-Registry-Auth header: …`); the pull route ignores them, as Docker 28 does.
 */
export function decodeAuthConfig(header: string | undefined): AuthConfig {
  if (!header) return {};
  const bytes = decodeBase64Url(header);
  try {
    return parseAuthConfigJson(bytes.toString('utf8'));
  } catch (err) {
    return invalid((err as Error).message);
  }
}

/** The AuthConfig JSON as Go's json.Decoder reads it (also the body of `POST /auth`), Go's texts. */
export function parseAuthConfigJson(text: string): AuthConfig {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(message);
  };
  // Go's json.Decoder reads the first value and ignores what follows it.
  const end = firstJsonValueEnd(text);
  const valueText = end < 0 ? text : text.slice(0, end);
  if (valueText.trim() === '') fail('EOF');
  const syntax = goJsonSyntaxError(valueText);
  // A json.Decoder that runs out of input says so as io.ErrUnexpectedEOF.
  if (syntax) fail(syntax === 'unexpected end of JSON input' ? 'unexpected EOF' : syntax);
  const parsed: unknown = JSON.parse(valueText);
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(`json: cannot unmarshal ${goType(parsed)} into Go value of type registry.AuthConfig`);
  }
  const config: AuthConfig = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    // Go matches field names case-insensitively.
    const field = STRING_FIELDS.find((f) => f === key.toLowerCase());
    if (!field || value === null) continue;
    if (typeof value !== 'string') {
      return fail(`json: cannot unmarshal ${goType(value)} into Go struct field AuthConfig.${field} of type string`);
    }
    config[field] = value;
  }
  return config;
}

/** Like decodeAuthConfig, but an undecodable header counts as no credentials (Docker 28's pull). */
export function decodeAuthConfigLenient(header: string | undefined): AuthConfig {
  try {
    return decodeAuthConfig(header);
  } catch {
    return {};
  }
}

/** What the docker CLI sends: base64url with padding. */
export function encodeAuthConfig(config: AuthConfig): string {
  const b64 = Buffer.from(JSON.stringify(config)).toString('base64url');
  return b64.padEnd(Math.ceil(b64.length / 4) * 4, '=');
}

function goType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

function invalid(message: string): never {
  throw new InvalidArgumentError(`invalid X-Registry-Auth header: ${message}`);
}

/** Go's base64.URLEncoding: the URL alphabet, padding required; CR and LF are skipped. */
function decodeBase64Url(input: string): Buffer {
  const clean = input.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9_=-]/.exec(clean);
  if (bad) invalid(`illegal base64 data at input byte ${bad.index}`);
  const m = /^([A-Za-z0-9_-]*)(=*)$/.exec(clean);
  if (!m) invalid(`illegal base64 data at input byte ${clean.indexOf('=')}`);
  const [, data = '', padding = ''] = m;
  if ((data.length + padding.length) % 4 !== 0 || padding.length > 2 || (padding.length > 0 && data.length % 4 === 0)) {
    invalid(padding.length === 0 ? 'unexpected EOF' : `illegal base64 data at input byte ${data.length}`);
  }
  return Buffer.from(data, 'base64url');
}

/** Index just after the first JSON value of `text`, or -1 when it does not end. */
function firstJsonValueEnd(text: string): number {
  let i = 0;
  while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++;
  const first = text.charAt(i);
  if (first !== '{' && first !== '[' && first !== '"') return -1;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const ch = text.charAt(i);
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Docker's registry.ConvertToHostname: `https://host:port/v1/` → `host:port`. */
export function convertToHostname(url: string): string {
  let stripped = url;
  if (stripped.startsWith('http://')) stripped = stripped.slice('http://'.length);
  else if (stripped.startsWith('https://')) stripped = stripped.slice('https://'.length);
  const slash = stripped.indexOf('/');
  return slash < 0 ? stripped : stripped.slice(0, slash);
}

export const DOCKER_HUB_REGISTRY_HOST = 'registry-1.docker.io';

/**
 * The registry host the credentials are for, as Docker 28's authorizerFromAuthConfig decides:
 * the server address's host, else the reference's domain; Hub's names all mean registry-1.docker.io.
 */
export function credentialsHost(config: AuthConfig, referenceDomain: string): string {
  let host = convertToHostname(config.serveraddress ?? '');
  if (host === '') host = referenceDomain;
  if (host === 'index.docker.io' || host === 'docker.io') host = DOCKER_HUB_REGISTRY_HOST;
  return host;
}

/**
 * Image references as Docker Engine 28 reads them: the behaviour of github.com/distribution/reference
 * v0.6.0 over github.com/opencontainers/go-digest v1.0.0 (with sha256, sha384 and sha512 linked in,
 * as they are in dockerd). Error messages are Go's, word for word, because clients show them as-is.
 *
 * A Reference is a plain object; "name only", "tagged", "digested" and "tagged and digested" are told
 * apart by which of `tag` and `digest` are present (an empty string counts as absent).
 */
import { InvalidArgumentError } from '../errors.js';

export interface Reference {
  /** 'docker.io', 'localhost:5000', '[::1]:5000', 'Foo'...; '' only for the odd case noted at parse(). */
  domain: string;
  /** Repository path within the domain, e.g. 'library/alpine'. */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const ERR_REFERENCE_INVALID_FORMAT = 'invalid reference format';
const ERR_TAG_INVALID_FORMAT = 'invalid tag format';
const ERR_DIGEST_INVALID_FORMAT = 'invalid digest format';
const ERR_NAME_CONTAINS_UPPERCASE = 'repository name must be lowercase';
const ERR_NAME_EMPTY = 'repository name must have at least one component';
const ERR_NAME_TOO_LONG = `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`;
const ERR_NAME_NOT_CANONICAL = 'repository name must be canonical';
// go-digest's own errors: Parse hands them through unchanged.
const ERR_CHECKSUM_FORMAT = 'invalid checksum digest format';
const ERR_CHECKSUM_LENGTH = 'invalid checksum digest length';
const ERR_CHECKSUM_UNSUPPORTED = 'unsupported digest algorithm';

// The grammar, built from the same pieces as Go's so that the accepted language is the same. Every class
// is ASCII-only, so matching UTF-16 here and UTF-8 in Go cannot differ. Each repetition is delimited by a
// mandatory separator, which keeps backtracking linear (Go's RE2 guarantees that; V8 does not).
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)'; // one '.' or '_', two '_', or any run of '-'
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]'; // no zones, no IPv4-mapped forms
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}'; // \w is ASCII-only in both engines
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';

// Go matches the whole reference, then splits the name with a second anchored regexp; both prefer a
// domain when the first segment can be one, and a domain cannot contain '/', so one pass with the domain
// captured separately yields the same split.
const referenceRe = new RegExp(
  `^(?:(${domainAndPort})/)?(${remoteName})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const tagRe = new RegExp(`^${tagPattern}$`);
const digestRe = new RegExp(`^${digestPattern}$`);
const identifierRe = /^[a-f0-9]{64}$/;
const shortIdentifierRe = /^(sha256:)?[a-f0-9]{4,64}$/;

// go-digest: the algorithms dockerd can verify (hex length by algorithm), and the looser grammar it uses
// to tell "unknown algorithm" from "garbage".
const digestHexLength = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);
const goDigestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/**
 * Go's strings.ToLower uses simple one-to-one case mappings; String#toLowerCase uses full ones. They
 * differ only for U+0130 ('İ' becomes 'i' in Go, 'i\u0307' in JS), and that one matters: Go lowercases
 * it to ASCII, so it can turn an invalid reference into a valid one and change which error is reported.
 */
function goToLower(s: string): string {
  return s.replace(/\u0130/g, 'i').toLowerCase();
}

/** go-digest's Digest.Validate: undefined when valid, else its error message. */
function digestError(d: string): string | undefined {
  const colon = d.indexOf(':');
  if (colon <= 0 || colon === d.length - 1) return ERR_CHECKSUM_FORMAT;
  const hexLength = digestHexLength.get(d.slice(0, colon));
  if (hexLength === undefined) return goDigestRe.test(d) ? ERR_CHECKSUM_UNSUPPORTED : ERR_CHECKSUM_FORMAT;
  const encoded = d.slice(colon + 1);
  // Length before content, as go-digest checks them, so an uppercase 64-char sha256 is a format error
  // but a 63-char one is a length error.
  if (encoded.length !== hexLength) return ERR_CHECKSUM_LENGTH;
  return /^[a-f0-9]+$/.test(encoded) ? undefined : ERR_CHECKSUM_FORMAT;
}

/** Builds a Reference without undefined-valued keys, so results compare cleanly with deepEqual. */
function makeReference(domain: string, path: string, tag?: string, digest?: string): Reference {
  const ref: Reference = { domain, path };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/**
 * Go's Parse: the raw grammar, no normalization. A first segment that is not a valid domain but is a
 * valid path component ('a_b.com/x') leaves the domain empty and makes it part of the path; through
 * parseNormalizedNamed this is how a Reference with domain '' can come about, exactly as in Go.
 */
function parse(s: string): Reference {
  if (s === '') fail(ERR_NAME_EMPTY);
  const m = referenceRe.exec(s);
  if (!m) {
    // Only uppercase where lowercase would have parsed gets the more helpful message.
    const lower = goToLower(s);
    if (lower !== s && referenceRe.test(lower)) fail(ERR_NAME_CONTAINS_UPPERCASE);
    fail(ERR_REFERENCE_INVALID_FORMAT);
  }
  const [, domain = '', path = '', tag, digest] = m;
  // Only the path counts towards the limit: the domain was excluded in reference v0.6.0.
  if (path.length > NAME_TOTAL_LENGTH_MAX) fail(ERR_NAME_TOO_LONG);
  if (digest) {
    const err = digestError(digest);
    if (err) fail(err);
  }
  return makeReference(domain, path, tag, digest);
}

/** Docker's guess at whether the first segment is a registry, and Docker Hub's canonical spellings. */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  // A single segment is always a Hub official image, even 'localhost' or 'example.com:5000' (a tag).
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const first = name.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (first === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, name.slice(slash + 1)];
  } else if (first === 'localhost' || /[.:]/.test(first) || goToLower(first) !== first) {
    // Path components are lowercase, so an uppercase first segment can only be a host name.
    [domain, remainder] = [first, name.slice(slash + 1)];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  // 'library/' is added on Docker Hub only: 'docker.io/ubuntu' is 'docker.io/library/ubuntu'.
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** Docker's ParseNormalizedNamed: a name as typed on the command line, made fully qualified. */
export function parseNormalizedNamed(s: string): Reference {
  // A bare image ID must not be mistaken for (or create) a repository of that name.
  if (identifierRe.test(s)) fail(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [domain, remainder] = splitDockerDomain(s);
  // Go cuts at the first ':' without looking for '@', so for 'foo@SHA256:...' the "name" it reports
  // is 'library/foo@SHA256'. Reproduced as is.
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (goToLower(remote) !== remote) {
    fail(`${ERR_REFERENCE_INVALID_FORMAT}: repository name (${remote}) must be lowercase`);
  }
  return parse(`${domain}/${remainder}`);
}

/** Go's ParseNamed: accepts only a name already in canonical form (what referenceString prints). */
export function parseNamed(s: string): Reference {
  const ref = parseNormalizedNamed(s);
  if (referenceString(ref) !== s) fail(ERR_NAME_NOT_CANONICAL);
  return ref;
}

/**
 * Go's ParseAnyReference: a 64-hex ID or a valid digest (any algorithm dockerd knows) stands alone;
 * anything else is a name. A digest that fails go-digest validation falls through to name parsing,
 * so 'sha256:abcd' is the image 'sha256' with tag 'abcd'.
 */
export function parseAnyReference(s: string): Reference | { digestOnly: string } {
  if (identifierRe.test(s)) return { digestOnly: `sha256:${s}` };
  if (digestError(s) === undefined) return { digestOnly: s };
  return parseNormalizedNamed(s);
}

/** Adds the 'latest' tag to a bare name; a tag or a digest (or both) leaves it as it is. */
export function tagNameOnly(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : withTag(ref, DEFAULT_TAG);
}

/** The full name: 'docker.io/library/alpine'. */
export function repositoryName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

function withSuffixes(name: string, ref: Reference): string {
  return name + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** name[:tag][@digest], fully qualified. */
export function referenceString(ref: Reference): string {
  return withSuffixes(repositoryName(ref), ref);
}

/**
 * The name as Docker shows it: Hub's domain is dropped, and 'library/' too unless what follows it has
 * more segments (Hub has no nested official namespaces, so 'library/a/b' must keep its prefix to
 * stay unambiguous).
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

export function familiarString(ref: Reference): string {
  return withSuffixes(familiarName(ref), ref);
}

/** Sets (or replaces) the tag, keeping any digest. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!tagRe.test(tag)) fail(ERR_TAG_INVALID_FORMAT);
  return makeReference(ref.domain, ref.path, tag, ref.digest);
}

/**
 * Sets (or replaces) the digest, keeping any tag. Like Go, this checks only the reference grammar, not
 * go-digest's per-algorithm rules: 'sha256:' with 32 hex digits is accepted here though parse rejects it.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  if (!digestRe.test(digest)) fail(ERR_DIGEST_INVALID_FORMAT);
  return makeReference(ref.domain, ref.path, ref.tag, digest);
}

export function trimNamed(ref: Reference): Reference {
  return makeReference(ref.domain, ref.path);
}

/** A full image ID without its algorithm: 64 lowercase hex digits. */
export function isFullIdentifier(s: string): boolean {
  return identifierRe.test(s);
}

/** An image ID or a prefix of one (at least 4 hex digits), with or without 'sha256:'. */
export function isShortIdentifier(s: string): boolean {
  return shortIdentifierRe.test(s);
}

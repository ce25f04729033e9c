/**
 * `docker import --change`: the Dockerfile instructions Docker 28 accepts there, applied to an empty
 * image config as moby's builder/dockerfile BuildFromConfig does (buildkit's parser and instruction
 * parsers, then moby's dispatchers), with their error texts. Nothing is run: only the config changes.
 */
import { InvalidArgumentError } from '../errors.js';
import type { HealthcheckConfig } from '../oci/types.js';
import { parseGoDuration } from '../util/go-duration.js';
import { expandWord, expandWords } from './shell-words.js';

/** The image config fields the changes can set, in Docker's (DockerOCIImageConfig) JSON order. */
export interface ImportConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthcheckConfig;
  OnBuild?: string[];
}

/** builder/dockerfile's validCommitCommands. */
const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** One parsed line: buildkit's parser.Node, reduced to what the instructions read. */
interface Line {
  /** The instruction as written (its case kept). */
  cmd: string;
  original: string;
  flags: string[];
  /** The rest after the instruction and its flags. */
  rest: string;
}

const fail = (message: string): never => {
  throw new InvalidArgumentError(message);
};

/** Applies `changes` in order; a bad line is a 400 with Docker's words. */
export function applyChanges(changes: readonly string[]): ImportConfig {
  const config: ImportConfig = {};
  if (changes.length === 0) return config;
  const lines = splitLines(changes.join('\n'));
  // The parser checks every line's syntax first, then every instruction's name.
  for (const line of lines) checkSyntax(line);
  for (const line of lines) {
    if (!VALID.has(line.cmd.toLowerCase())) fail(`${line.cmd.toLowerCase()} is not a valid change command`);
  }
  for (const line of lines) checkInstruction(line);
  for (const line of lines) dispatch(config, line);
  return config;
}

/** buildkit's Parse: comments and blank lines skipped, `\` continues a line. */
function splitLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let current = raw[i] ?? '';
    if (/^\s*#/.test(current)) continue;
    let line = '';
    for (;;) {
      const trimmed = current.replace(/\s+$/, '');
      if (trimmed.endsWith('\\')) {
        line += trimmed.slice(0, -1);
        i++;
        if (i >= raw.length) break;
        current = raw[i] ?? '';
        while (/^\s*#/.test(current) && i + 1 < raw.length) current = raw[++i] ?? '';
        continue;
      }
      line += current;
      break;
    }
    if (line.trim() === '') continue;
    out.push(splitCommand(line));
  }
  if (out.length === 0) fail('file with no instructions');
  return out;
}

/** buildkit's splitCommand and extractBuilderFlags: leading `--x=y` words are flags. */
function splitCommand(line: string): Line {
  const trimmed = line.trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  const cmd = match?.[1] ?? '';
  let rest = match?.[2] ?? '';
  const flags: string[] = [];
  for (;;) {
    const flag = /^(--\S*)\s*([\s\S]*)$/.exec(rest);
    if (!flag || flag[1] === '--') break;
    flags.push(flag[1] ?? '');
    rest = flag[2] ?? '';
  }
  return { cmd, original: line, flags, rest };
}

/** The line parser's checks (parser/line_parsers.go). */
function checkSyntax(line: Line): void {
  const cmd = line.cmd.toLowerCase();
  if (cmd === 'env' || cmd === 'label') nameValues(line.rest, cmd.toUpperCase());
  if (cmd === 'cmd' || cmd === 'entrypoint' || cmd === 'volume') maybeJson(line.rest);
  if (cmd === 'healthcheck') maybeJson(line.rest.replace(/^\S+\s*/, ''));
  if (cmd === 'onbuild' && line.rest !== '') checkSyntax(splitCommand(line.rest));
}

/** A JSON array of strings, or undefined when `rest` is not JSON (then it is the shell form). */
function maybeJson(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((s) => typeof s === 'string')) fail('when using JSON array syntax, arrays must be comprised of strings only');
  return parsed as string[];
}

/** parseWords: whitespace-separated words, quotes kept (the shell lexer removes them later). */
function parseWords(rest: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let blankOk = false;
  let inWord = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] ?? '';
    if (!inWord && !quote) {
      if (/\s/.test(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote !== "'" && i + 1 < rest.length) word += rest[i++] ?? '';
      word += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (blankOk || word !== '') words.push(word);
      word = '';
      blankOk = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOk = true;
    }
    if (ch === '\\') {
      if (i + 1 === rest.length) continue;
      word += ch;
      i++;
      word += rest[i] ?? '';
      continue;
    }
    word += ch;
  }
  if (inWord || quote) if (blankOk || word !== '') words.push(word);
  return words;
}

/** parseNameVal for ENV and LABEL: `k=v k2=v2`, or the legacy `k v`. */
function nameValues(rest: string, key: string): Array<[string, string]> {
  const words = parseWords(rest);
  if (words.length === 0) return [];
  if (!(words[0] ?? '').includes('=')) {
    const parts = rest.split(/\s+/);
    const name = parts[0] ?? '';
    const value = rest.slice(name.length).replace(/^\s+/, '');
    if (parts.length < 2 || value === '') fail(`${key} must have two arguments`);
    return [[name, value]];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) fail(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** Arguments as the instruction parsers see them: the JSON list, or whitespace-split words. */
function args(line: Line): string[] {
  return maybeJson(line.rest) ?? line.rest.split(/\s+/).filter((w) => w !== '');
}

/** The instruction parsers' checks (instructions/parse.go), before anything is applied. */
function checkInstruction(line: Line): void {
  const cmd = line.cmd.toUpperCase();
  if (cmd !== 'HEALTHCHECK' && cmd !== 'ONBUILD' && cmd !== 'STOPSIGNAL') checkNoFlags(line.flags);
  switch (cmd) {
    case 'ENV':
    case 'LABEL': {
      const pairs = nameValues(line.rest, cmd);
      if (pairs.length === 0) fail(`${cmd} requires at least one argument`);
      if (pairs.some(([name]) => name === '')) fail(`${cmd} names can not be blank`);
      break;
    }
    case 'EXPOSE':
    case 'VOLUME':
      if (args(line).length === 0) fail(`${cmd} requires at least one argument`);
      if (cmd === 'VOLUME' && args(line).some((v) => v.trim() === '')) fail('VOLUME specified can not be an empty string');
      break;
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
      if (line.rest.trim() === '' || (cmd !== 'WORKDIR' && cmd !== 'USER' && args(line).length !== 1)) {
        fail(`${cmd} requires exactly one argument`);
      }
      break;
    case 'HEALTHCHECK':
      healthcheck(line);
      break;
    case 'ONBUILD': {
      if (line.rest.trim() === '') fail('ONBUILD requires at least one argument');
      const trigger = (line.rest.trim().split(/\s+/)[0] ?? '').toUpperCase();
      if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      break;
    }
  }
}

function checkNoFlags(flags: string[]): void {
  const first = flags[0];
  if (first !== undefined) fail(`Unknown flag: ${first.slice(2).split('=')[0] ?? ''}`);
}

/** parseHealthcheck: NONE, or `[--interval=… --timeout=… --start-period=… --start-interval=… --retries=…] CMD …`. */
function healthcheck(line: Line): HealthcheckConfig {
  const words = line.rest.trim();
  if (words === '') fail('HEALTHCHECK requires at least one argument');
  const type = (/^\S+/.exec(words)?.[0] ?? '').toUpperCase();
  const after = words.slice(type.length).replace(/^\s+/, '');
  if (type === 'NONE') {
    if (after !== '') fail('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  const values = new Map<string, string>();
  for (const flag of line.flags) {
    const [name = '', value] = flag.slice(2).split(/=(.*)/s);
    if (!['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(name)) fail(`Unknown flag: ${name}`);
    if (value === undefined) fail(`Missing a value on flag: ${name}`);
    values.set(name, value ?? '');
  }
  if (type !== 'CMD') fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const json = maybeJson(after);
  const command = json ?? (after === '' ? [] : [after]);
  if (command.length === 0) fail('Missing command after HEALTHCHECK CMD');
  const check: HealthcheckConfig = { Test: [json ? 'CMD' : 'CMD-SHELL', ...command] };
  const durations: Array<[string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval']> = [
    ['interval', 'Interval'],
    ['timeout', 'Timeout'],
    ['start-period', 'StartPeriod'],
    ['start-interval', 'StartInterval'],
  ];
  for (const [flag, field] of durations) {
    const text = values.get(flag) ?? '';
    if (text === '') continue;
    const nanos = parseGoDuration(text);
    if (nanos === undefined) fail(`time: invalid duration "${text}"`);
    if (nanos !== undefined && nanos !== 0n && nanos < 1_000_000n) fail(`Interval "${flag}" cannot be less than 1ms`);
    if (nanos) check[field] = Number(nanos);
  }
  const retries = values.get('retries') ?? '';
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) fail(`strconv.ParseInt: parsing "${retries}": invalid syntax`);
    const n = Number.parseInt(retries, 10);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    if (n) check.Retries = n;
  }
  return check;
}

/** Docker's dispatchers: the instruction applied to the config, words expanded with its Env. */
function dispatch(config: ImportConfig, line: Line): void {
  const env = (): Map<string, string> => new Map((config.Env ?? []).map((e) => [e.split('=')[0] ?? '', e.slice(e.indexOf('=') + 1)]));
  const word = (w: string): string => expandWord(w, env());
  switch (line.cmd.toUpperCase()) {
    case 'ENV':
      for (const [rawName, rawValue] of nameValues(line.rest, 'ENV')) {
        const name = word(rawName);
        const entry = `${name}=${word(rawValue)}`;
        const list = (config.Env ??= []);
        const at = list.findIndex((e) => e.split('=')[0] === name);
        if (at >= 0) list[at] = entry;
        else list.push(entry);
      }
      break;
    case 'LABEL':
      for (const [name, value] of nameValues(line.rest, 'LABEL')) (config.Labels ??= {})[word(name)] = word(value);
      break;
    case 'EXPOSE': {
      const ports = args(line)
        .sort()
        .flatMap((p) => expandWords(p, env()));
      for (const port of ports) for (const spec of portSpecs(port)) (config.ExposedPorts ??= {})[spec] = {};
      break;
    }
    case 'USER':
      config.User = word(line.rest.trim());
      break;
    case 'VOLUME':
      for (const v of args(line)) (config.Volumes ??= {})[word(v.trim())] = {};
      break;
    case 'WORKDIR':
      config.WorkingDir = normalizeWorkdir(config.WorkingDir ?? '', word(line.rest.trim()));
      break;
    case 'STOPSIGNAL': {
      const signal = word(line.rest.trim());
      checkSignal(signal);
      config.StopSignal = signal;
      break;
    }
    case 'CMD':
      config.Cmd = commandLine(line);
      break;
    case 'ENTRYPOINT': {
      const entrypoint = commandLine(line);
      if (entrypoint.length > 0) config.Entrypoint = entrypoint;
      else delete config.Entrypoint;
      // Without a CMD among these changes, the entrypoint resets it.
      delete config.Cmd;
      break;
    }
    case 'HEALTHCHECK':
      config.Healthcheck = healthcheck(line);
      break;
    case 'ONBUILD':
      (config.OnBuild ??= []).push(line.original.replace(/^\s*ONBUILD\s*/i, ''));
      break;
  }
}

/** resolveCmdLine: the JSON form as given, the shell form run by `/bin/sh -c`. */
function commandLine(line: Line): string[] {
  const json = maybeJson(line.rest);
  if (json) return json;
  return line.rest === '' ? [] : ['/bin/sh', '-c', line.rest];
}

/** normalizeWorkdir (Unix): a relative path joins the current one. */
function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') fail('cannot normalize nothing');
  const joined = requested.startsWith('/') ? requested : `/${current}/${requested}`;
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** go-connections' nat.ParsePortSpec, for what EXPOSE gives it: `port[-end][/proto]`. */
function portSpecs(raw: string): string[] {
  const parts = raw.split(':');
  const last = parts[parts.length - 1] ?? '';
  const slash = last.split('/');
  let proto = 'tcp';
  let port = last;
  if (last === '' || slash[0] === '') fail(`no port specified: ${raw}<empty>`);
  if (slash.length > 1) {
    port = slash[0] ?? '';
    if (slash[1] !== '') proto = slash[1] ?? '';
  }
  if (parts.length > 1) fail(`invalid IP address: ${parts.length > 2 ? parts.slice(0, -2).join(':') : ''}`);
  const range = /^(\d+)(?:-(\d+))?$/.exec(port);
  const start = Number(range?.[1]);
  const end = range?.[2] === undefined ? start : Number(range[2]);
  if (!range || start > 65535 || end > 65535 || end < start) fail(`invalid containerPort: ${port}`);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) fail(`invalid proto: ${proto}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

/** moby's signal.ParseSignal against Linux's signal names. */
function checkSignal(raw: string): void {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n === 0 || n > 255) fail(`Invalid signal: ${raw}`);
    return;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  if (!LINUX_SIGNALS.has(name) && !/^RTMIN(\+([1-9]|1[0-5]))?$/.test(name) && !/^RTMAX(-([1-9]|1[0-4]))?$/.test(name)) {
    fail(`Invalid signal: ${raw}`);
  }
}

const LINUX_SIGNALS = new Set(
  'ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ'.split(' '),
);

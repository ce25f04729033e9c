/**
 * The Dockerfile shell lexer's word processing (buildkit frontend/dockerfile/shell, ProcessWord and
 * ProcessWords), for what `docker import --change` expands: quotes removed, `\` escapes, `$VAR`,
 * `${VAR}`, `${VAR:-word}` and `${VAR:+word}` from the config's Env so far.
 */
import { InvalidArgumentError } from '../errors.js';

/** One word out: quotes and escapes removed, variables expanded. */
export function expandWord(word: string, env: ReadonlyMap<string, string>): string {
  return lex(word, env, false).join('');
}

/** Several words out: unquoted whitespace (also from expanded variables) splits them. */
export function expandWords(word: string, env: ReadonlyMap<string, string>): string[] {
  return lex(word, env, true).filter((w) => w !== '');
}

function lex(text: string, env: ReadonlyMap<string, string>, split: boolean): string[] {
  const words: string[] = [''];
  const add = (s: string): void => {
    words[words.length - 1] += s;
  };
  const addSplit = (s: string): void => {
    if (!split) return add(s);
    const pieces = s.split(/\s+/);
    pieces.forEach((piece, i) => {
      if (i > 0) words.push('');
      add(piece);
    });
  };
  let i = 0;
  const variable = (): string => {
    // at `$`
    i++;
    if (text[i] === '{') {
      const close = text.indexOf('}', i);
      if (close < 0) throw new InvalidArgumentError(`missing '}'`);
      const inner = text.slice(i + 1, close);
      i = close + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([\s\S]*))?$/.exec(inner);
      if (!m) throw new InvalidArgumentError(`failed to process "\${${inner}}": unsupported modifier`);
      const value = env.get(m[1] ?? '');
      const set = value !== undefined && (value !== '' || !inner.includes(':'));
      if (m[2] === '-') return set ? (value ?? '') : expandWord(m[3] ?? '', env);
      if (m[2] === '+') return set ? expandWord(m[3] ?? '', env) : '';
      return value ?? '';
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new InvalidArgumentError('unexpected end of statement while looking for matching single-quote');
      add(text.slice(i + 1, close));
      i = close + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new InvalidArgumentError('unexpected end of statement while looking for matching double-quote');
        const c = text[i] ?? '';
        if (c === '"') {
          i++;
          break;
        }
        if (c === '$') add(variable());
        else if (c === '\\' && i + 1 < text.length && '"$\\'.includes(text[i + 1] ?? '')) {
          add(text[i + 1] ?? '');
          i += 2;
        } else {
          add(c);
          i++;
        }
      }
    } else if (ch === '\\') {
      add(text[i + 1] ?? '');
      i += 2;
    } else if (ch === '$') {
      addSplit(variable());
    } else if (split && /\s/.test(ch)) {
      words.push('');
      i++;
    } else {
      add(ch);
      i++;
    }
  }
  return words;
}

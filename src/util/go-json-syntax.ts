/**
 * The first syntax error of a JSON text, worded as Go's encoding/json scanner words it
 * (Docker passes those words on to clients, e.g. in `failed to parse platform: …`).
 * Undefined when the text is valid JSON.
 */
export function goJsonSyntaxError(text: string): string | undefined {
  const s = new Scanner(text);
  try {
    s.skipSpace();
    s.value();
    s.skipSpace();
    if (s.pos < text.length) s.fail('after top-level value');
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxFault) return err.message;
    throw err;
  }
}

class SyntaxFault extends Error {}

/** Go's encoding/json maxNestingDepth. */
export const MAX_NESTING_DEPTH = 10000;

/**
 * True when arrays and objects nest deeper than Go's decoder allows. Only brackets outside strings
 * count; the text need not be valid JSON (the parser says what else is wrong).
 */
export function jsonDepthExceeded(text: string, max = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  fail(context: string): never {
    const ch = this.peek();
    if (ch === undefined) throw new SyntaxFault('unexpected end of JSON input');
    throw new SyntaxFault(`invalid character ${quoteChar(ch)} ${context}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos] ?? '')) this.pos++;
  }

  /**
   * One value, nested ones included, with an explicit stack rather than recursion: input of any
   * depth cannot overflow the call stack (Go stops at 10000 levels, with its own message).
   */
  value(): void {
    const stack: Array<'array' | 'object'> = [];
    let expect: 'value' | 'key' = 'value';
    for (;;) {
      if (expect === 'key') {
        if (this.peek() !== '"') this.fail('looking for beginning of object key string');
        this.string();
        this.skipSpace();
        if (this.peek() !== ':') this.fail('after object key');
        this.pos++;
        this.skipSpace();
      }
      expect = 'value';
      const ch = this.peek();
      if (ch === '{' || ch === '[') {
        if (stack.length >= MAX_NESTING_DEPTH) this.fail('exceeded max depth');
        this.pos++;
        this.skipSpace();
        const close = ch === '{' ? '}' : ']';
        if (this.peek() !== close) {
          stack.push(ch === '{' ? 'object' : 'array');
          if (ch === '{') expect = 'key';
          continue;
        }
        this.pos++;
      } else if (ch === '"') {
        this.string();
      } else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
        this.number();
      } else {
        const literal = ['true', 'false', 'null'].find((word) => ch === word[0]);
        if (literal === undefined) this.fail('looking for beginning of value');
        this.literal(literal);
      }
      // After a complete value: close what can be closed, or move to the next element.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return;
        this.skipSpace();
        const next = this.peek();
        if (next === (top === 'object' ? '}' : ']')) {
          this.pos++;
          stack.pop();
          continue;
        }
        if (next !== ',') this.fail(top === 'object' ? 'after object key:value pair' : 'after array element');
        this.pos++;
        this.skipSpace();
        if (top === 'object') expect = 'key';
        break;
      }
    }
  }

  private literal(word: string): void {
    this.pos++;
    for (const expected of word.slice(1)) {
      if (this.peek() !== expected) this.fail(`in literal ${word} (expecting '${expected}')`);
      this.pos++;
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail('');
      if (ch === '"') {
        this.pos++;
        return;
      }
      if (ch < ' ') this.fail('in string literal');
      if (ch === '\\') {
        this.pos++;
        const esc = this.peek();
        if (esc === 'u') {
          this.pos++;
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(this.peek() ?? '')) this.fail('in \\u hexadecimal character escape');
            this.pos++;
          }
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) this.fail('in string escape code');
      }
      this.pos++;
    }
  }

  private number(): void {
    const digit = (): boolean => /[0-9]/.test(this.peek() ?? '');
    if (this.peek() === '-') {
      this.pos++;
      if (!digit()) this.fail('in numeric literal');
    }
    if (this.peek() === '0') this.pos++;
    else while (digit()) this.pos++;
    if (this.peek() === '.') {
      this.pos++;
      if (!digit()) this.fail('after decimal point in numeric literal');
      while (digit()) this.pos++;
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.pos++;
      if (this.peek() === '+' || this.peek() === '-') this.pos++;
      if (!digit()) this.fail('in exponent of numeric literal');
      while (digit()) this.pos++;
    }
  }
}

/** Go's quoteChar: `'x'`, with `'\''` and `'"'` spelled as Go spells them. */
function quoteChar(ch: string): string {
  if (ch === "'") return `'\\''`;
  if (ch === '"') return `'"'`;
  const quoted = JSON.stringify(ch).slice(1, -1);
  return `'${quoted}'`;
}

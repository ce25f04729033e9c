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

  value(): void {
    const ch = this.peek();
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    for (const literal of ['true', 'false', 'null']) {
      if (ch === literal[0]) return this.literal(literal);
    }
    this.fail('looking for beginning of value');
  }

  private literal(word: string): void {
    this.pos++;
    for (const expected of word.slice(1)) {
      if (this.peek() !== expected) this.fail(`in literal ${word} (expecting '${expected}')`);
      this.pos++;
    }
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.peek() !== '"') this.fail('looking for beginning of object key string');
      this.string();
      this.skipSpace();
      if (this.peek() !== ':') this.fail('after object key');
      this.pos++;
      this.skipSpace();
      this.value();
      this.skipSpace();
      const ch = this.peek();
      if (ch === '}') {
        this.pos++;
        return;
      }
      if (ch !== ',') this.fail('after object key:value pair');
      this.pos++;
      this.skipSpace();
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const ch = this.peek();
      if (ch === ']') {
        this.pos++;
        return;
      }
      if (ch !== ',') this.fail('after array element');
      this.pos++;
      this.skipSpace();
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

// Expressions for the debugger: conditions of breakpoints (`break vmfault
// if cr2 == 0x0804c000`), `print`, and addresses (`x/8x esp+4`, `break
// *0xc0100000`). C operators on unsigned 32-bit values:
//
//   || && | ^ & == != < <= > >= << >> + - * / % and unary - ~ ! and *(u32 at a linear address)
//
// Operands: numbers (0x hex or decimal), registers (eax..edi, ax.., eip,
// eflags, cr0 cr2 cr3 cr4, cpl, cs ds es fs gs ss), `$count` (instructions
// retired), and symbols, which the caller resolves (kernel first, then the
// current user program). A register may be written `$eax` as in gdb.

export interface ExpressionContext {
  register(name: string): number | undefined;
  symbol(name: string): number | undefined;
  /** The u32 at a linear address through the current paging; undefined when not mapped. */
  readU32(linear: number): number | undefined;
}

type Token = { kind: 'num'; value: number } | { kind: 'name'; text: string } | { kind: 'op'; text: string };

const OPERATORS = ['||', '&&', '==', '!=', '<=', '>=', '<<', '>>', '|', '^', '&', '<', '>', '+', '-', '*', '/', '%', '~', '!', '(', ')'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) { at += space[0].length; continue; }
    const num = /^(0x[0-9a-f]+|[0-9]+)(?![\w.])/i.exec(rest);
    if (num) { tokens.push({ kind: 'num', value: Number(num[1]) }); at += num[0].length; continue; }
    const badNumber = /^[0-9][\w.]*/.exec(rest);
    if (badNumber) throw new Error(`bad number '${badNumber[0]}'`);
    const name = /^\$?[A-Za-z_.][\w.$]*/.exec(rest);
    if (name) { tokens.push({ kind: 'name', text: name[0] }); at += name[0].length; continue; }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new Error(`unexpected '${rest[0]}' in expression`);
    tokens.push({ kind: 'op', text: op });
    at += op.length;
  }
  return tokens;
}

/** Binary operators by precedence, lowest first. */
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '|': return (a | b) >>> 0;
    case '^': return (a ^ b) >>> 0;
    case '&': return (a & b) >>> 0;
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    case '<<': return (a << (b & 31)) >>> 0;
    case '>>': return a >>> (b & 31);
    case '+': return (a + b) >>> 0;
    case '-': return (a - b) >>> 0;
    case '*': return Math.imul(a, b) >>> 0;
    case '/': case '%':
      if (b === 0) throw new Error('division by zero in expression');
      return op === '/' ? Math.floor(a / b) >>> 0 : a % b;
    default: throw new Error(`bad operator ${op}`);
  }
}

/** A parsed expression: evaluate it as often as needed (a breakpoint condition is evaluated at each hit). */
export class Expression {
  private readonly tokens: Token[];
  private at = 0;
  private ctx!: ExpressionContext;

  constructor(readonly text: string) {
    this.tokens = tokenize(text);
    if (this.tokens.length === 0) throw new Error('empty expression');
    // Parse once with a context that knows every name, so that syntax errors show up now.
    this.evaluate({ register: () => 0, symbol: () => 0, readU32: () => 0 });
  }

  evaluate(ctx: ExpressionContext): number {
    this.ctx = ctx;
    this.at = 0;
    const v = this.binary(0);
    if (this.at < this.tokens.length) throw new Error(`unexpected '${show(this.tokens[this.at]!)}' in expression`);
    return v >>> 0;
  }

  private binary(level: number): number {
    if (level === LEVELS.length) return this.unary();
    let v = this.binary(level + 1);
    for (;;) {
      const t = this.tokens[this.at];
      if (!t || t.kind !== 'op' || !LEVELS[level]!.includes(t.text)) return v;
      this.at++;
      v = apply(t.text, v, this.binary(level + 1));
    }
  }

  private unary(): number {
    const t = this.tokens[this.at++];
    if (!t) throw new Error('expression ends too soon');
    if (t.kind === 'num') {
      if (!Number.isSafeInteger(t.value) || t.value > 0xffffffff) throw new Error(`number ${t.value} does not fit in 32 bits`);
      return t.value;
    }
    if (t.kind === 'name') return this.name(t.text);
    switch (t.text) {
      case '-': return (-this.unary()) >>> 0;
      case '~': return ~this.unary() >>> 0;
      case '!': return this.unary() === 0 ? 1 : 0;
      case '*': {
        const address = this.unary();
        const v = this.ctx.readU32(address);
        if (v === undefined) throw new Error(`cannot read memory at 0x${address.toString(16)}: not mapped`);
        return v;
      }
      case '(': {
        const v = this.binary(0);
        const close = this.tokens[this.at++];
        if (!close || close.kind !== 'op' || close.text !== ')') throw new Error("missing ')' in expression");
        return v;
      }
      default: throw new Error(`unexpected '${t.text}' in expression`);
    }
  }

  private name(text: string): number {
    const bare = text.startsWith('$') ? text.slice(1) : text;
    const reg = this.ctx.register(bare.toLowerCase());
    if (reg !== undefined) return reg;
    if (!text.startsWith('$')) {
      const sym = this.ctx.symbol(text);
      if (sym !== undefined) return sym;
    }
    throw new Error(`no register or symbol named '${text}'`);
  }
}

function show(t: Token): string {
  return t.kind === 'num' ? String(t.value) : t.kind === 'name' ? t.text : t.text;
}

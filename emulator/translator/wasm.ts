// A minimal WebAssembly binary writer: just what the translator needs to
// emit one module holding one function that imports the core's memory,
// globals and helper functions.

export const I32 = 0x7f, I64 = 0x7e;

export const enum Op {
  Block = 0x02, Loop = 0x03, If = 0x04, Else = 0x05, End = 0x0b, Br = 0x0c, BrIf = 0x0d, Return = 0x0f,
  Call = 0x10, Drop = 0x1a, Select = 0x1b,
  LocalGet = 0x20, LocalSet = 0x21, LocalTee = 0x22, GlobalGet = 0x23, GlobalSet = 0x24,
  I32Load = 0x28, I32Load8U = 0x2d, I32Load16U = 0x2f, I32Store = 0x36, I32Store8 = 0x3a, I32Store16 = 0x3b,
  I32Const = 0x41,
  I32Eqz = 0x45, I32Eq = 0x46, I32Ne = 0x47, I32LtS = 0x48, I32LtU = 0x49, I32GtS = 0x4a, I32GtU = 0x4b,
  I32LeS = 0x4c, I32LeU = 0x4d, I32GeS = 0x4e, I32GeU = 0x4f,
  I32Popcnt = 0x69, I32Add = 0x6a, I32Sub = 0x6b, I32Mul = 0x6c, I32And = 0x71, I32Or = 0x72, I32Xor = 0x73,
  I32Shl = 0x74, I32ShrS = 0x75, I32ShrU = 0x76, I32Rotl = 0x77, I32Rotr = 0x78,
  I64Ne = 0x52, I64Mul = 0x7e, I32WrapI64 = 0xa7, I64ExtendI32S = 0xac,
  I32Extend8S = 0xc0, I32Extend16S = 0xc1,
}

export const VOID_BLOCK = 0x40;

function uleb(out: number[], v: number): void {
  v >>>= 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function name(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  out.push(...body);
}

/** A function body under construction. */
export class Code {
  readonly bytes: number[] = [];
  op(...ops: number[]): this { this.bytes.push(...ops); return this; }
  i32(v: number): this { this.bytes.push(Op.I32Const); sleb(this.bytes, v); return this; }
  local(op: Op.LocalGet | Op.LocalSet | Op.LocalTee, index: number): this { this.bytes.push(op); uleb(this.bytes, index); return this; }
  global(op: Op.GlobalGet | Op.GlobalSet, index: number): this { this.bytes.push(op); uleb(this.bytes, index); return this; }
  call(index: number): this { this.bytes.push(Op.Call); uleb(this.bytes, index); return this; }
  append(other: Code): this { for (const b of other.bytes) this.bytes.push(b); return this; }
  /** A load or store with a constant address folded into the offset. */
  memory(op: Op, align: number, offset: number): this {
    this.bytes.push(op);
    uleb(this.bytes, align);
    uleb(this.bytes, offset);
    return this;
  }
}

export interface FunctionImport { name: string; params: number; results: number }

/**
 * A module importing env.memory, the named i32 mutable globals and the named
 * i32 functions (in that order, which gives their indices), and exporting one
 * function `block` of type [] -> [] with `locals` i32 locals followed by
 * `locals64` i64 locals.
 */
export function moduleBytes(globals: string[], functions: FunctionImport[], locals: number, body: Code, locals64 = 0): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Types: one per import signature, then the block's.
  const types: number[] = [];
  uleb(types, functions.length + 1);
  for (const f of functions) {
    types.push(0x60);
    uleb(types, f.params);
    for (let i = 0; i < f.params; i++) types.push(I32);
    uleb(types, f.results);
    for (let i = 0; i < f.results; i++) types.push(I32);
  }
  types.push(0x60, 0, 0);
  section(out, 1, types);

  const imports: number[] = [];
  uleb(imports, 1 + globals.length + functions.length);
  name(imports, 'env'); name(imports, 'memory'); imports.push(0x02, 0x00, 0x00); // memory, min 0
  for (const g of globals) { name(imports, 'env'); name(imports, g); imports.push(0x03, I32, 0x01); }
  functions.forEach((f, i) => { name(imports, 'env'); name(imports, f.name); imports.push(0x00); uleb(imports, i); });
  section(out, 2, imports);

  const funcs: number[] = [];
  uleb(funcs, 1);
  uleb(funcs, functions.length);
  section(out, 3, funcs);

  const exports: number[] = [];
  uleb(exports, 1);
  name(exports, 'block');
  exports.push(0x00);
  uleb(exports, functions.length);
  section(out, 7, exports);

  const fn: number[] = [];
  uleb(fn, (locals > 0 ? 1 : 0) + (locals64 > 0 ? 1 : 0));
  if (locals > 0) { uleb(fn, locals); fn.push(I32); }
  if (locals64 > 0) { uleb(fn, locals64); fn.push(I64); }
  fn.push(...body.bytes, Op.End);
  const code: number[] = [];
  uleb(code, 1);
  uleb(code, fn.length);
  code.push(...fn);
  section(out, 10, code);
  return new Uint8Array(out);
}

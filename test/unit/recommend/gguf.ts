import { writeFileSync } from "node:fs";

/**
 * Writes a tiny llama-architecture GGUF (v3, F32 tensors, seeded pseudo-random weights, an SPM
 * tokenizer of byte tokens plus filler) so that llama.cpp can really load it. Test helper only.
 */

enum T {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  STR = 8,
  ARR = 9,
}
type Value = number | string | [T, (number | string)[]];

export interface TinyLlama {
  layers: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  vocab: number;
  trainedContext: number;
}

class Writer {
  parts: Buffer[] = [];
  length = 0;
  push(b: Buffer) {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  f32(v: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  u64(v: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  value(type: T, v: Value) {
    if (type === T.U32) this.u32(v as number);
    else if (type === T.I32) this.i32(v as number);
    else if (type === T.F32) this.f32(v as number);
    else if (type === T.STR) this.str(v as string);
    else {
      const [elementType, items] = v as [T, (number | string)[]];
      this.u32(elementType);
      this.u64(items.length);
      for (const item of items) this.value(elementType, item);
    }
  }
}

/** Returns the bytes of tensor data (what llama.cpp maps as the model buffer). */
export function writeTinyLlama(file: string, a: TinyLlama): { tensorBytes: number } {
  const bytes = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
  const filler = Array.from({ length: Math.max(0, a.vocab - 259) }, (_, i) => `▁tok${i}`);
  const tokens = ["<unk>", "<s>", "</s>", ...bytes, ...filler];
  const kv: [string, T, Value][] = [
    ["general.architecture", T.STR, "llama"],
    ["general.name", T.STR, "freehold-tiny"],
    ["llama.context_length", T.U32, a.trainedContext],
    ["llama.embedding_length", T.U32, a.embedding],
    ["llama.block_count", T.U32, a.layers],
    ["llama.feed_forward_length", T.U32, a.feedForward],
    ["llama.rope.dimension_count", T.U32, a.embedding / a.heads],
    ["llama.attention.head_count", T.U32, a.heads],
    ["llama.attention.head_count_kv", T.U32, a.kvHeads],
    ["llama.attention.layer_norm_rms_epsilon", T.F32, 1e-5],
    ["tokenizer.ggml.model", T.STR, "llama"],
    ["tokenizer.ggml.tokens", T.ARR, [T.STR, tokens]],
    ["tokenizer.ggml.scores", T.ARR, [T.F32, tokens.map(() => 0)]],
    [
      "tokenizer.ggml.token_type",
      T.ARR,
      [T.I32, tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1))],
    ],
    ["tokenizer.ggml.bos_token_id", T.U32, 1],
    ["tokenizer.ggml.eos_token_id", T.U32, 2],
    ["tokenizer.ggml.unknown_token_id", T.U32, 0],
  ];
  const gqa = a.kvHeads * (a.embedding / a.heads);
  const tensors: [string, number[]][] = [
    ["token_embd.weight", [a.embedding, tokens.length]],
    ["output_norm.weight", [a.embedding]],
    ["output.weight", [a.embedding, tokens.length]],
  ];
  for (let i = 0; i < a.layers; i += 1) {
    tensors.push(
      [`blk.${i}.attn_norm.weight`, [a.embedding]],
      [`blk.${i}.attn_q.weight`, [a.embedding, a.embedding]],
      [`blk.${i}.attn_k.weight`, [a.embedding, gqa]],
      [`blk.${i}.attn_v.weight`, [a.embedding, gqa]],
      [`blk.${i}.attn_output.weight`, [a.embedding, a.embedding]],
      [`blk.${i}.ffn_norm.weight`, [a.embedding]],
      [`blk.${i}.ffn_gate.weight`, [a.embedding, a.feedForward]],
      [`blk.${i}.ffn_up.weight`, [a.embedding, a.feedForward]],
      [`blk.${i}.ffn_down.weight`, [a.feedForward, a.embedding]],
    );
  }
  const ALIGN = 32;
  const w = new Writer();
  w.push(Buffer.from("GGUF"));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kv.length);
  for (const [key, type, value] of kv) {
    w.str(key);
    w.u32(type);
    w.value(type, value);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const [name, dims] of tensors) {
    w.str(name);
    w.u32(dims.length);
    for (const d of dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    offsets.push(offset);
    offset += Math.ceil((dims.reduce((x, y) => x * y, 1) * 4) / ALIGN) * ALIGN;
  }
  w.push(Buffer.alloc((ALIGN - (w.length % ALIGN)) % ALIGN));
  const data = Buffer.alloc(offset);
  let seed = 1;
  tensors.forEach(([name, dims], t) => {
    const n = dims.reduce((x, y) => x * y, 1);
    const base = offsets[t] ?? 0;
    for (let j = 0; j < n; j += 1) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      data.writeFloatLE(name.includes("norm") ? 1 : (seed / 2 ** 32 - 0.5) * 0.1, base + j * 4);
    }
  });
  w.push(data);
  writeFileSync(file, Buffer.concat(w.parts));
  return { tensorBytes: offset };
}

import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core'
import type { ArchConfig } from './arch.js'
import type { TfModule } from './backend.js'

/**
 * Where a block's weights come from. Every projection is [in, out]: GPT-2's Conv1D weights as
 * stored, Llama-family nn.Linear weights ([out, in] on disk) transposed once at load, because the
 * wasm backend's matMul is several times slower with transposeB. `blockForward` calls `get` once
 * per tensor right before its use and `done` right after, so a streaming source can load each
 * matrix from disk on demand and free it (and the packed copy the wasm matMul keeps of it) at once.
 */
export interface BlockWeights {
  /** The tensor named `name`, or undefined when the block has none (absent optional biases). */
  get(name: string): Tensor | undefined
  /** Called after the last use of `name` in this pass through the block. */
  done(name: string): void
}

/** Per-batch constants shared by every block: RoPE tables and attention masks. */
export interface ForwardContext {
  readonly batch: number
  readonly seqLen: number
  /** [S, headDim] cos and sin tables (Llama family only). */
  readonly cos?: Tensor2D
  readonly sin?: Tensor2D
  /** Additive [S, S] masks keyed by window size (0 = plain causal). */
  readonly masks: ReadonlyMap<number, Tensor2D>
}

const NEG = -1e9

/** Builds the RoPE tables and masks for a batch shape; the caller disposes them with `disposeContext`. */
export function createContext(tf: TfModule, a: ArchConfig, batch: number, seqLen: number): ForwardContext {
  const masks = new Map<number, Tensor2D>()
  for (const w of new Set(a.window)) {
    const m = new Float32Array(seqLen * seqLen)
    for (let i = 0; i < seqLen; i++) {
      for (let j = 0; j < seqLen; j++) m[i * seqLen + j] = j > i || (w > 0 && i - j >= w) ? NEG : 0
    }
    masks.set(w, tf.tensor2d(m, [seqLen, seqLen]))
  }
  if (a.family === 'gpt2') return { batch, seqLen, masks }
  // inv_freq[k] = theta^(-2k/hd); emb = [freqs, freqs] (HF rotate_half convention), computed in float64
  const hd = a.headDim
  const half = hd / 2
  const cos = new Float32Array(seqLen * hd)
  const sin = new Float32Array(seqLen * hd)
  for (let p = 0; p < seqLen; p++) {
    for (let k = 0; k < half; k++) {
      const ang = p * Math.pow(a.ropeTheta, (-2 * k) / hd)
      cos[p * hd + k] = cos[p * hd + k + half] = Math.cos(ang)
      sin[p * hd + k] = sin[p * hd + k + half] = Math.sin(ang)
    }
  }
  return { batch, seqLen, masks, cos: tf.tensor2d(cos, [seqLen, hd]), sin: tf.tensor2d(sin, [seqLen, hd]) }
}

export function disposeContext(ctx: ForwardContext): void {
  ctx.cos?.dispose()
  ctx.sin?.dispose()
  for (const m of ctx.masks.values()) m.dispose()
}

function rmsNorm(tf: TfModule, x: Tensor2D, w: Tensor, eps: number): Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true)
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w) as Tensor2D
}

function layerNorm(tf: TfModule, x: Tensor2D, w: Tensor, b: Tensor, eps: number): Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b) as Tensor2D
}

function act(tf: TfModule, a: ArchConfig['activation'], x: Tensor): Tensor {
  switch (a) {
    case 'silu':
      return tf.mul(x, tf.sigmoid(x))
    case 'relu':
      return tf.relu(x)
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))
    case 'gelu_tanh': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
    }
  }
}

/** x [N, in] times a Linear weight already transposed to [in, out] (+ bias). */
function linear(tf: TfModule, x: Tensor2D, w: Tensor, b?: Tensor): Tensor2D {
  const y = tf.matMul(x, w as Tensor2D)
  return (b === undefined ? y : tf.add(y, b)) as Tensor2D
}

/** x [N, in] times a Conv1D weight [in, out] + bias. */
function conv1d(tf: TfModule, x: Tensor2D, w: Tensor, b: Tensor): Tensor2D {
  return tf.add(tf.matMul(x, w as Tensor2D), b) as Tensor2D
}

/** [N, heads*hd] → [B, heads, S, hd] */
function splitHeads(tf: TfModule, x: Tensor, B: number, S: number, heads: number, hd: number): Tensor {
  return tf.transpose(tf.reshape(x, [B, S, heads, hd]), [0, 2, 1, 3])
}

function rope(tf: TfModule, x: Tensor, cos: Tensor2D, sin: Tensor2D, hd: number): Tensor {
  const half = hd / 2
  const [x1, x2] = tf.split(x, [half, half], -1) as [Tensor, Tensor]
  const rot = tf.concat([tf.neg(x2), x1], -1)
  return tf.add(tf.mul(x, cos), tf.mul(rot, sin))
}

/**
 * softmax(q kᵀ / √hd + mask) v with q [B, H, S, hd] and k, v [B, KV, S, hd] → [N, H*hd]. Grouped-
 * query attention without copying K/V: query head h = kv·G + g reads KV head kv = ⌊h/G⌋, so q is
 * viewed as [B, KV, G·S, hd] and multiplied by each KV head once.
 */
function attend(
  tf: TfModule,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor2D,
  B: number,
  S: number,
  H: number,
  KV: number,
  hd: number,
): Tensor2D {
  const G = H / KV
  const qg = tf.reshape(q, [B, KV, G * S, hd])
  const kt = tf.transpose(k, [0, 1, 3, 2])
  const raw = tf.reshape(tf.matMul(qg as Tensor2D, kt as Tensor2D), [B, KV, G, S, S])
  const p = tf.reshape(tf.softmax(tf.add(tf.mul(raw, 1 / Math.sqrt(hd)), mask)), [B, KV, G * S, S])
  const ctx = tf.reshape(tf.matMul(p as Tensor2D, v as Tensor2D), [B, H, S, hd])
  return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * S, H * hd])
}

/**
 * One pre-norm decoder block on the residual stream h [B*S, d] → h' [B*S, d].
 * Llama family: h += o(attn(RoPE(q), RoPE(k), v)) over RMSNorm(h); h += down(silu(gate) ⊙ up) over
 * RMSNorm(h), with grouped-query attention when num_key_value_heads < num_attention_heads [1].
 * GPT-2: LayerNorm, fused c_attn (Conv1D), gelu_new MLP [2]. Pure math: never picks a backend.
 * Returns a new tensor; `h` is left to the caller.
 * [1] H. Touvron et al., "Llama 2: Open Foundation and Fine-Tuned Chat Models", arXiv:2307.09288 (2023).
 * [2] A. Radford et al., "Language Models are Unsupervised Multitask Learners", OpenAI (2019).
 */
export function blockForward(
  tf: TfModule,
  a: ArchConfig,
  w: BlockWeights,
  h: Tensor2D,
  ctx: ForwardContext,
  blockIndex: number,
  names: BlockNames,
): Tensor2D {
  const { batch: B, seqLen: S } = ctx
  const H = a.numHeads
  const hd = a.headDim
  const mask = ctx.masks.get(a.window[blockIndex] ?? 0)!
  /**
   * Applies f to the named weights (an absent optional one is undefined) in its own tidy scope,
   * then releases them: ops such as matMul take reshaped views of a weight, which share its memory
   * until their scope ends, so only a scope this tight lets `done` really free it.
   */
  const use = <T extends Tensor>(
    keys: readonly (keyof BlockNames)[],
    f: (...t: (Tensor | undefined)[]) => T,
  ): T => {
    const ts = keys.map((k) => w.get(names[k]))
    try {
      return tf.tidy(() => f(...ts))
    } finally {
      for (const k of keys) w.done(names[k])
    }
  }
  const lin = (x: Tensor2D, wk: keyof BlockNames, bk: keyof BlockNames): Tensor2D =>
    use([wk, bk], (W, b) => linear(tf, x, W!, b))
  const conv = (x: Tensor2D, wk: keyof BlockNames, bk: keyof BlockNames): Tensor2D =>
    use([wk, bk], (W, b) => conv1d(tf, x, W!, b!))
  // two tidy scopes, so the attention intermediates are freed before the MLP allocates its own
  if (a.family === 'gpt2') {
    const h1 = tf.tidy(() => {
      const x = use(['ln1', 'ln1b'], (g, b) => layerNorm(tf, h, g!, b!, a.eps))
      const qkv = conv(x, 'qkv', 'qkvb')
      const [q, k, v] = tf.split(qkv, 3, -1) as [Tensor2D, Tensor2D, Tensor2D]
      const att = attend(
        tf,
        splitHeads(tf, q, B, S, H, hd),
        splitHeads(tf, k, B, S, H, hd),
        splitHeads(tf, v, B, S, H, hd),
        mask,
        B,
        S,
        H,
        H,
        hd,
      )
      return tf.add(h, conv(att, 'o', 'ob')) as Tensor2D
    })
    const h2 = tf.tidy(() => {
      const x2 = use(['ln2', 'ln2b'], (g, b) => layerNorm(tf, h1, g!, b!, a.eps))
      const m = conv(act(tf, a.activation, conv(x2, 'up', 'upb')) as Tensor2D, 'down', 'downb')
      return tf.add(h1, m) as Tensor2D
    })
    h1.dispose()
    return h2
  }
  const KV = a.numKvHeads
  const h1 = tf.tidy(() => {
    const x = use(['ln1'], (g) => rmsNorm(tf, h, g!, a.eps))
    const q = rope(tf, splitHeads(tf, lin(x, 'q', 'qb'), B, S, H, hd), ctx.cos!, ctx.sin!, hd)
    const k = rope(tf, splitHeads(tf, lin(x, 'k', 'kb'), B, S, KV, hd), ctx.cos!, ctx.sin!, hd)
    const v = splitHeads(tf, lin(x, 'v', 'vb'), B, S, KV, hd)
    const att = attend(tf, q, k, v, mask, B, S, H, KV, hd)
    return tf.add(h, lin(att, 'o', 'ob')) as Tensor2D
  })
  const h2 = tf.tidy(() => {
    const x2 = use(['ln2'], (g) => rmsNorm(tf, h1, g!, a.eps))
    const gate = act(tf, a.activation, lin(x2, 'gate', 'gateb'))
    const m = lin(tf.mul(gate, lin(x2, 'up', 'upb')) as Tensor2D, 'down', 'downb')
    return tf.add(h1, m) as Tensor2D
  })
  h1.dispose()
  return h2
}

/** Checkpoint tensor names of one block's weights, by role. */
export interface BlockNames {
  readonly ln1: string
  readonly ln1b: string
  readonly ln2: string
  readonly ln2b: string
  readonly q: string
  readonly k: string
  readonly v: string
  readonly qb: string
  readonly kb: string
  readonly vb: string
  readonly qkv: string
  readonly qkvb: string
  readonly o: string
  readonly ob: string
  readonly gate: string
  readonly gateb: string
  readonly up: string
  readonly upb: string
  readonly down: string
  readonly downb: string
}

/** Tensor names of block `i` by role (names of absent optional tensors are simply never loaded). */
export function blockNames(a: ArchConfig, i: number): BlockNames {
  if (a.family === 'gpt2') {
    const b = `${a.prefix}h.${i}.`
    return {
      ln1: `${b}ln_1.weight`,
      ln1b: `${b}ln_1.bias`,
      ln2: `${b}ln_2.weight`,
      ln2b: `${b}ln_2.bias`,
      q: '',
      k: '',
      v: '',
      qb: '',
      kb: '',
      vb: '',
      qkv: `${b}attn.c_attn.weight`,
      qkvb: `${b}attn.c_attn.bias`,
      o: `${b}attn.c_proj.weight`,
      ob: `${b}attn.c_proj.bias`,
      gate: '',
      gateb: '',
      up: `${b}mlp.c_fc.weight`,
      upb: `${b}mlp.c_fc.bias`,
      down: `${b}mlp.c_proj.weight`,
      downb: `${b}mlp.c_proj.bias`,
    }
  }
  const b = `${a.prefix}layers.${i}.`
  return {
    ln1: `${b}input_layernorm.weight`,
    ln1b: '',
    ln2: `${b}post_attention_layernorm.weight`,
    ln2b: '',
    q: `${b}self_attn.q_proj.weight`,
    k: `${b}self_attn.k_proj.weight`,
    v: `${b}self_attn.v_proj.weight`,
    qb: `${b}self_attn.q_proj.bias`,
    kb: `${b}self_attn.k_proj.bias`,
    vb: `${b}self_attn.v_proj.bias`,
    qkv: '',
    qkvb: '',
    o: `${b}self_attn.o_proj.weight`,
    ob: `${b}self_attn.o_proj.bias`,
    gate: `${b}mlp.gate_proj.weight`,
    gateb: `${b}mlp.gate_proj.bias`,
    up: `${b}mlp.up_proj.weight`,
    upb: `${b}mlp.up_proj.bias`,
    down: `${b}mlp.down_proj.weight`,
    downb: `${b}mlp.down_proj.bias`,
  }
}

/** Weights of the final norm (LayerNorm for GPT-2, RMSNorm otherwise). */
export interface FinalNorm {
  readonly normW: Tensor1D
  readonly normB?: Tensor1D
}

/** Embedding tables: token rows [V or U, d] and, for GPT-2, learned positions [P, d]. */
export interface EmbeddingWeights {
  readonly embed: Tensor2D
  readonly pos?: Tensor2D
}

/** h_0 [B*S, d]: token embeddings (+ learned positions for GPT-2); `ids` index rows of `g.embed`. */
export function embed(tf: TfModule, g: EmbeddingWeights, ids: Int32Array, B: number, S: number): Tensor2D {
  return tf.tidy(() => {
    const e = tf.gather(g.embed, tf.tensor1d(ids, 'int32'))
    if (g.pos === undefined) return e as Tensor2D
    const pos = new Int32Array(B * S)
    for (let i = 0; i < pos.length; i++) pos[i] = i % S
    return tf.add(e, tf.gather(g.pos, tf.tensor1d(pos, 'int32'))) as Tensor2D
  })
}

/** The final norm applied to h_T (the input of the output head). */
export function finalNorm(tf: TfModule, a: ArchConfig, g: FinalNorm, h: Tensor2D): Tensor2D {
  return tf.tidy(() =>
    a.family === 'gpt2' ? layerNorm(tf, h, g.normW, g.normB!, a.eps) : rmsNorm(tf, h, g.normW, a.eps),
  )
}

/** Logits [N, V] = finalNorm(h_T) · headT, with the head transposed to [d, V]. */
export function logitsOf(tf: TfModule, a: ArchConfig, g: FinalNorm, headT: Tensor2D, h: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.matMul(finalNorm(tf, a, g, h), headT))
}

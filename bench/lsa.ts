// A stand-in embedding model for the retrieval benchmark: latent semantic analysis (Deerwester et al.
// 1990) fitted on the benchmark corpus, exposed as an `ai` SDK embedding model so the product's own
// dense and hybrid code paths run unchanged. No hosted embedding model is reachable from the machines
// the benchmark runs on; LSA is a real dense representation (terms that co-occur share dimensions),
// weaker than a modern neural embedder, so dense figures here are a floor, not a ceiling.
//
// Fitting: TF-IDF matrix A (documents × terms), rank-k truncated SVD by a randomised range finder with
// power iterations (Halko, Martinsson & Tropp 2011); a text is embedded as its TF-IDF vector times V_k.
import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import { analyze } from '../server/src/knowledge/analyze.js';

type Sparse = { idx: Int32Array; val: Float64Array };

/** Deterministic pseudo-random normals (the fit must not change between runs). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Orthonormalises the columns of an m × l matrix (row-major), in place; modified Gram-Schmidt, twice. */
function orthonormalise(Y: Float64Array, m: number, l: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < l; j++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += Y[i * l + j]! * Y[i * l + p]!;
        for (let i = 0; i < m; i++) Y[i * l + j]! -= dot * Y[i * l + p]!;
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += Y[i * l + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < m; i++) Y[i * l + j]! /= norm;
    }
  }
}

/** Eigen-decomposition of a symmetric n × n matrix by cyclic Jacobi rotations: values and column vectors. */
function jacobi(S: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(S);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

export interface Lsa {
  dims: number;
  embed(text: string): number[];
  model: EmbeddingModelV3;
}

export function fitLsa(texts: string[], opts: { dims?: number; oversample?: number; powerIterations?: number } = {}): Lsa {
  const k = opts.dims ?? 128;
  const l = k + (opts.oversample ?? 16);
  const terms = texts.map(analyze);
  const df = new Map<string, number>();
  for (const ts of terms) for (const t of new Set(ts)) df.set(t, (df.get(t) ?? 0) + 1);
  const vocab = new Map<string, number>();
  for (const [t, n] of df) if (n >= 2) vocab.set(t, vocab.size);
  const m = texts.length;
  const n = vocab.size;
  const idf = new Float64Array(n);
  for (const [t, i] of vocab) idf[i] = Math.log(m / df.get(t)!);

  const weigh = (ts: string[]): Sparse => {
    const tf = new Map<number, number>();
    for (const t of ts) {
      const i = vocab.get(t);
      if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
    }
    const idx = Int32Array.from(tf.keys());
    return { idx, val: Float64Array.from(idx, (i) => (1 + Math.log(tf.get(i)!)) * idf[i]!) };
  };
  const rows = terms.map(weigh);

  // A × M (M: n × l) and Aᵀ × N (N: m × l), row-major dense results.
  const times = (M: Float64Array): Float64Array => {
    const out = new Float64Array(m * l);
    rows.forEach((r, d) => {
      for (let j = 0; j < r.idx.length; j++) {
        const base = r.idx[j]! * l;
        const w = r.val[j]!;
        for (let c = 0; c < l; c++) out[d * l + c]! += w * M[base + c]!;
      }
    });
    return out;
  };
  const timesT = (N: Float64Array): Float64Array => {
    const out = new Float64Array(n * l);
    rows.forEach((r, d) => {
      for (let j = 0; j < r.idx.length; j++) {
        const base = r.idx[j]! * l;
        const w = r.val[j]!;
        for (let c = 0; c < l; c++) out[base + c]! += w * N[d * l + c]!;
      }
    });
    return out;
  };

  const rand = gaussian(42);
  let Y = times(Float64Array.from({ length: n * l }, rand));
  orthonormalise(Y, m, l);
  for (let q = 0; q < (opts.powerIterations ?? 2); q++) {
    const Z = timesT(Y);
    orthonormalise(Z, n, l);
    Y = times(Z);
    orthonormalise(Y, m, l);
  }
  // B = Qᵀ A is l × n; stored transposed (n × l) as Aᵀ Q. Its right singular vectors come from B Bᵀ.
  const Bt = timesT(Y);
  const BBt = new Float64Array(l * l);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < l; i++) {
      const bi = Bt[t * l + i]!;
      if (bi === 0) continue;
      for (let j = i; j < l; j++) BBt[i * l + j]! += bi * Bt[t * l + j]!;
    }
  }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) BBt[i * l + j] = BBt[j * l + i]!;
  const { values, vectors } = jacobi(BBt, l);
  const order = [...values.keys()].sort((x, y) => values[y]! - values[x]!).slice(0, k);
  // V_k = Bᵀ Ũ Σ⁻¹ (n × k).
  const V = new Float64Array(n * k);
  order.forEach((e, c) => {
    const sigma = Math.sqrt(Math.max(values[e]!, 1e-12));
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let i = 0; i < l; i++) s += Bt[t * l + i]! * vectors[i * l + e]!;
      V[t * k + c] = s / sigma;
    }
  });

  const embed = (text: string): number[] => {
    const r = weigh(analyze(text));
    const out = new Array<number>(k).fill(0);
    for (let j = 0; j < r.idx.length; j++) {
      const base = r.idx[j]! * k;
      for (let c = 0; c < k; c++) out[c]! += r.val[j]! * V[base + c]!;
    }
    return out;
  };
  const model: EmbeddingModelV3 = {
    specificationVersion: 'v3',
    provider: 'bench',
    modelId: `lsa-${k}`,
    maxEmbeddingsPerCall: 2048,
    supportsParallelCalls: true,
    doEmbed: async ({ values: vs }) => ({
      embeddings: vs.map(embed),
      usage: { tokens: vs.reduce((s, v) => s + v.split(/\s+/).length, 0) },
      warnings: [],
    }),
  };
  return { dims: k, embed, model };
}

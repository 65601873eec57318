// Client-side checks of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs with Web Crypto,
// so an admin need not take the server's word that an entry is in the tree its signed checkpoint commits
// to, or that today's tree extends the one this browser saw last time.
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

export async function verifyInclusion(leafHashHex: string, index: number, size: number, proofHex: string[], rootHex: string): Promise<boolean> {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = fromHex(leafHashHex);
  for (const p of proofHex.map(fromHex)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && toHex(r) === rootHex;
}

const isHash = (h: string) => /^[0-9a-f]{64}$/.test(h);
const isOdd = (x: number) => x % 2 === 1;
const isPowerOfTwo = (x: number) => x > 0 && (x & (x - 1)) === 0;

/** Does `proofHex` show that the tree of size m with rootM is a prefix of the tree of size n with rootN? */
export async function verifyConsistency(m: number, n: number, proofHex: string[], rootMHex: string, rootNHex: string): Promise<boolean> {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 1 || m > n) return false;
  if (m === n) return proofHex.length === 0 && rootMHex === rootNHex;
  if (proofHex.length === 0 || !proofHex.every(isHash) || !isHash(rootMHex) || !isHash(rootNHex)) return false;
  const path = (isPowerOfTwo(m) ? [rootMHex, ...proofHex] : proofHex).map(fromHex);
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && toHex(fr) === rootMHex && toHex(sr) === rootNHex;
}

// Builds widget.js (Preact included) and loader.js (the script tag's target), plus content-hashed
// copies and a manifest for long caching. The loader, served with a short cache, names the hashed
// widget file, so a release reaches every page within minutes while the widget itself is immutable.
// Each file also gets .br and .gz copies, made once here rather than on every request. The languages
// other than English are content-hashed JSON files the widget fetches when a visitor's language wants one.
// The parts a conversation may never need (actions, rating, away: src/parts.ts) are content-hashed
// scripts of their own, which the widget loads when first needed, with its own Preact (src/part.ts).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const out = new URL('./dist/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'safari14'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The browser SDK is read from its sources, like the tests do.
  conditions: ['parley-source'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // In place of the packages' tsconfig files (what esbuild reads of tsconfig.base.json), but with class
  // fields (the SDK's ParleyError) lowered as assignments in the constructor: the same own properties,
  // without a defineProperty helper in the bundle.
  tsconfigRaw: { compilerOptions: { strict: true, verbatimModuleSyntax: true, useDefineForClassFields: false } },
  write: false,
  logLevel: 'warning',
};

const manifest = {};
async function emit(name, options) {
  const { outputFiles } = await build({ ...common, ...options, outfile: out + name });
  return write(name, outputFiles[0].contents);
}
function write(name, body, names = ['plain', 'hashed']) {
  const hashed = name.replace(/\.(js|json)$/, `.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.$1`);
  // Served precompressed by Accept-Encoding: brotli at its best quality, gzip for the rest.
  const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
  const gz = gzipSync(body, { level: 9 });
  for (const file of names.map((n) => (n === 'plain' ? name : hashed))) {
    writeFileSync(out + file, body);
    writeFileSync(`${out + file}.br`, br);
    writeFileSync(`${out + file}.gz`, gz);
  }
  manifest[name] = hashed;
  return hashed;
}

const {
  outputFiles: [tables],
} = await build({ ...common, entryPoints: ['src/locales.ts'], format: 'esm' });
const { LOCALES } = await import(`data:text/javascript;base64,${Buffer.from(tables.contents).toString('base64')}`);
const locales = {};
for (const [lang, t] of Object.entries(LOCALES)) locales[lang] = write(`locale-${lang}.json`, Buffer.from(JSON.stringify(t)), ['hashed']);
const src = new URL('./src/', import.meta.url).pathname;
const parts = {};
// Each part hands over its components, its stylesheets and its English strings.
for (const [name, components] of Object.entries({ actions: 'Offer, Proposal', rating: 'Rating', away: 'Away' })) {
  const { outputFiles, metafile } = await build({
    ...common,
    stdin: {
      contents: `import { ${components}, css, en } from './${name}.js'; import { register } from './part.js'; register({ ${components}, css, en });`,
      resolveDir: src,
      loader: 'ts',
    },
    outfile: `${out}part-${name}.js`,
    metafile: true,
    plugins: [
      {
        // The widget's Preact and string helpers, handed over at run time in place of copies of their own.
        name: 'part',
        setup: (b) => b.onResolve({ filter: /^(preact(\/hooks|\/jsx-runtime)?|\.\/i18n\.js)$/ }, () => ({ path: `${src}part.ts` })),
      },
    ],
  });
  // A second Preact would not share the widget's hooks state nor its bidi vnode hook (bidi.ts).
  const strays = Object.keys(metafile.inputs).filter((i) => /preact|i18n|bidi|app\.tsx/.test(i));
  if (strays.length) throw new Error(`part-${name}.js must not bundle ${strays.join(', ')}`);
  parts[name] = write(`part-${name}.js`, outputFiles[0].contents, ['hashed']);
}
const widget = await emit('widget.js', {
  entryPoints: ['src/main.tsx'],
  define: { ...common.define, __LOCALES__: JSON.stringify(locales) },
  plugins: [
    {
      // The parts by their files, in place of their modules (src/parts.ts).
      name: 'parts',
      setup: (b) => b.onLoad({ filter: /\/src\/parts\.ts$/ }, () => ({ contents: `export const PARTS = ${JSON.stringify(parts)};`, loader: 'js' })),
    },
  ],
});
await emit('loader.js', { entryPoints: ['src/loader.ts'], define: { ...common.define, __WIDGET_FILE__: JSON.stringify(widget) } });
writeFileSync(`${out}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);

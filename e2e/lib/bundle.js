// bundle.js builds lib/stanza.js for the browser with esbuild, as a script
// that sets window.jgStanza.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function stanzaBundle() {
  const r = await build({
    stdin: { contents: "import * as s from './stanza.js'; window.jgStanza = s;", resolveDir: here, loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  });
  return r.outputFiles[0].text;
}

// The console renders what the API sends as text (Preact escapes it): nothing in its sources may
// hand a string to the HTML parser. The browser test proves hostile text stays inert; this guard
// keeps a future change from opening the door it tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const HTML_SINKS =
  /\b(innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|createContextualFragment)\b/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.gen.ts') ? [full] : [];
  });
}

describe('console sources', () => {
  it('never give a string to the HTML parser', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((file) => HTML_SINKS.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

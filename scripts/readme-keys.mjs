// Writes the board's key table into the README, between <!-- keys:start --> and <!-- keys:end -->,
// from the command table the board itself uses (dist/ui/commands.js: run `npm run build` first).
import { readFileSync, writeFileSync } from 'node:fs';
import { keyTableMarkdown } from '../dist/ui/commands.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const updated = readme.replace(/<!-- keys:start -->[\s\S]*?<!-- keys:end -->/, `<!-- keys:start -->\n${keyTableMarkdown()}\n<!-- keys:end -->`);
if (updated === readme) console.log('README key table already up to date');
else {
  writeFileSync(path, updated);
  console.log('README key table written');
}

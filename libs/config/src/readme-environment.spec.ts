import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARIABLES } from './variables';

/** The README's Environment table and the catalogue name the same variables, in both directions. */
describe('README environment table', () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Environment'), readme.indexOf('\n## ', readme.indexOf('## Environment') + 3));
  const documented = new Set(
    section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])),
  );

  it('documents every catalogue variable', () => {
    expect(ENV_VARIABLES.map((v) => v.name).filter((n) => !documented.has(n))).toEqual([]);
  });

  it('documents nothing the catalogue does not know', () => {
    const known = new Set(ENV_VARIABLES.map((v) => v.name));
    expect([...documented].filter((n) => !known.has(n))).toEqual([]);
  });
});

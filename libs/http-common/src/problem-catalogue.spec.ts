import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequest, Conflict, DomainError, Forbidden, NotFound, Unauthenticated, ValidationFailed } from '@app/domain';
import { codeForStatus, PROBLEM_CATALOGUE, STATUS_BY_KIND } from './problem-catalogue';
import { toProblem } from './problem.filter';

const ROOT = join(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dashboard' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the problem catalogue', () => {
  it('names every problem code the code raises', () => {
    const raised = new Set<string>();
    for (const file of [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/new (?:BadRequest|Conflict)\(\s*'([a-z0-9-]+)'/g)) raised.add(m[1]);
    }
    expect(raised.size).toBeGreaterThan(5);
    expect([...raised].filter((code) => !(code in PROBLEM_CATALOGUE))).toEqual([]);
  });

  it('agrees with the status of each domain error kind', () => {
    const errors: DomainError[] = [
      new ValidationFailed([]),
      new BadRequest('invalid-cursor', 'x'),
      new Unauthenticated(),
      new Forbidden('x'),
      new NotFound('x'),
      new Conflict('duplicate-name', 'x'),
    ];
    for (const err of errors) {
      expect(PROBLEM_CATALOGUE[err.code as keyof typeof PROBLEM_CATALOGUE].status).toBe(STATUS_BY_KIND[err.kind]);
      expect(toProblem(err)).toMatchObject({ type: `/problems/${err.code}`, status: STATUS_BY_KIND[err.kind] });
    }
  });

  it('maps a bare status to a generic code of that status', () => {
    expect(codeForStatus(400)).toBe('bad-request');
    expect(codeForStatus(409)).toBe('conflict');
    expect(codeForStatus(415)).toBe('unsupported-media-type');
    expect(codeForStatus(503)).toBe('service-unavailable');
    for (const [code, { status }] of Object.entries(PROBLEM_CATALOGUE)) {
      expect(code).toMatch(/^[a-z0-9-]+$/);
      expect(PROBLEM_CATALOGUE[codeForStatus(status)!].status).toBe(status);
    }
  });
});

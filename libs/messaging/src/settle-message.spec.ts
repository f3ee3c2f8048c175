import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { settleMessage } from './settle-message';

describe('settleMessage', () => {
  it('tells the server, and never throws when the connection cannot take it (closed, draining)', () => {
    const calls: string[] = [];
    const open = {
      ack: () => void calls.push('ack'),
      nak: (d?: number) => void calls.push(`nak ${d}`),
      term: () => void calls.push('term'),
      working: () => void calls.push('working'),
    };
    expect(settleMessage(open, 'ack')).toBe(true);
    expect(settleMessage(open, 'nak', 2000)).toBe(true);
    expect(settleMessage(open, 'term')).toBe(true);
    expect(settleMessage(open, 'working')).toBe(true);
    expect(calls).toEqual(['ack', 'nak 2000', 'term', 'working']);
    const closed = new Error('CONNECTION_CLOSED');
    const throwing = {
      ack: () => {
        throw closed;
      },
      nak: () => {
        throw closed;
      },
      term: () => {
        throw closed;
      },
      working: () => {
        throw closed;
      },
    };
    for (const how of ['ack', 'nak', 'term', 'working'] as const) expect(settleMessage(throwing, how)).toBe(false);
  });

  it('is the only way the services settle a JetStream message', () => {
    // The class, not one call site: a bare msg.ack() in a timer or a callback ends the process on a closed connection.
    const bare = /\.(ack|nak|term|working)\(/; // any arguments: nak(delay), term('reason'), ...
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('settle-message.ts')) {
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (bare.test(line) && !line.trim().startsWith('*') && !line.trim().startsWith('//')) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const root of ['apps', 'libs']) walk(join(__dirname, '..', '..', '..', root));
    expect(offenders).toEqual([]);
  });
});

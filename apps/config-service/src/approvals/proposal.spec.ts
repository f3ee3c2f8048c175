import { SecretBox } from '@app/crypto';
import { maskedChanges, openProposal, sealProposal } from './proposal';

describe('webhook proposals', () => {
  const box = new SecretBox(Buffer.alloc(32, 3));

  it('masks credentials in what approvers see and keeps only webhook fields', () => {
    const shown = maskedChanges({
      rate_limit: 5,
      api_key: { header: 'X-Key', key: 'very-secret-9876' },
      oauth: { client_url: 'https://a.example.com/t', client_id: 'c', client_secret: 'other-secret-4321' },
      ...({ extra: 'x' } as object),
    });
    expect(shown).toEqual({
      rate_limit: 5,
      api_key: { header: 'X-Key', key: '****9876' },
      oauth: { client_url: 'https://a.example.com/t', client_id: 'c', client_secret: '****4321' },
    });
    expect(JSON.stringify(shown)).not.toContain('secret-');
  });

  it('seals the proposal so no credential is stored in clear', () => {
    const sealed = sealProposal(box, 'req-1', { patch: { api_key: { header: 'X-Key', key: 'very-secret-9876' } }, restore_status: 'ACTIVE' });
    expect(sealed).not.toContain('very-secret');
    expect(openProposal(box, 'req-1', sealed)).toEqual({ patch: { api_key: { header: 'X-Key', key: 'very-secret-9876' } }, restore_status: 'ACTIVE' });
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { faultDoc } from './error-doc';

const catalogue = readFileSync(path.resolve(__dirname, '../../../docs/errors.md'), 'utf8');
const documented = (link: string) => catalogue.includes(`<a id="${link.slice('docs/errors.md#'.length)}"></a>`);

describe('faultDoc', () => {
  it.each([
    ['config_fault', '20004', 'docs/errors.md#customs-20004'],
    ['upload_rejected', '20000', 'docs/errors.md#customs-20000'],
    ['upload_rejected', '20123', 'docs/errors.md#customs-other'],
    ['upload_rejected', null, 'docs/errors.md#status-upload_rejected'],
    ['config_fault', null, 'docs/errors.md#status-config_fault'],
    ['data_fault', null, 'docs/errors.md#status-data_fault'],
  ])('links %s with customs code %s to %s, an entry that exists', (status, code, link) => {
    expect(faultDoc(status, code)).toBe(link);
    expect(documented(link)).toBe(true);
  });
});

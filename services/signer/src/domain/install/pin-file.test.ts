import { parseEnvFile } from './env-file';
import { pinFileProblem } from './pin-file';

describe('the PIN file check', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  it('accepts the PIN alone, or with the one final line break the signer drops', () => {
    expect(pinFileProblem(bytes('24680135'))).toBeUndefined();
    expect(pinFileProblem(bytes('24680135\r\n'))).toBeUndefined();
    expect(pinFileProblem(bytes('口令1234'))).toBeUndefined();
  });

  it('names what is wrong without any byte of the PIN', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [bytes(''), /empty/],
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('24680135')]), /byte-order mark/],
      [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('24680135', 'utf16le')]), /UTF-16/],
      [bytes('\n'), /only a line break/],
      [bytes('2468\n0135'), /more than one line/],
      [bytes('2468\t0135'), /control character/],
      [bytes(' 24680135'), /space/],
      [Buffer.from([0x32, 0xb0, 0xa1]), /not valid UTF-8/],
    ];
    for (const [input, expected] of cases) {
      const problem = pinFileProblem(input) ?? '';
      expect(problem).toMatch(expected);
      expect(problem).not.toMatch(/2468|0135/);
    }
  });
});

describe('signer.env', () => {
  it('reads KEY=VALUE lines: comments, blanks, quotes, a BOM, empty values as defaults', () => {
    const { entries, errors } = parseEnvFile('\uFEFF# c\r\n\r\nA=1\r\n B = "two words" \r\nC=\r\nD=x#y\r\n', 'f');
    expect(errors).toEqual([]);
    expect(entries).toEqual([
      { key: 'A', value: '1', line: 3 },
      { key: 'B', value: 'two words', line: 4 },
      { key: 'D', value: 'x#y', line: 6 },
    ]);
  });

  it('names the line of a malformed or repeated setting, without its value', () => {
    const { errors } = parseEnvFile('A=secret-1\nno equals\n1A=x\nA=secret-2\n', 'signer.env');
    expect(errors).toEqual([
      'signer.env line 2: not KEY=VALUE',
      'signer.env line 3: "1A" is not a variable name',
      'signer.env line 4: A is set twice',
    ]);
  });
});

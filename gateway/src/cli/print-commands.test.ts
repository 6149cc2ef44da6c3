import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { checkPassword, type PasswordInput, readPassword } from './print-commands.js';

function sink(): PassThrough & { text: () => string } {
  const s = new PassThrough();
  const chunks: string[] = [];
  s.on('data', (c: Buffer) => chunks.push(c.toString()));
  return Object.assign(s, { text: () => chunks.join('') });
}

describe('readPassword', () => {
  it('takes the first line of piped input', async () => {
    const input = new PassThrough();
    input.end('s3cret pass\r\nsecond line\n');
    expect(await readPassword(input, sink(), 'Password: ')).toBe('s3cret pass');
  });

  it('refuses empty piped input', async () => {
    const input = new PassThrough();
    input.end('');
    await expect(readPassword(input, sink(), 'Password: ')).rejects.toBeInstanceOf(PacklineError);
  });

  it('reads from a terminal in raw mode without echoing, with backspace', async () => {
    const modes: boolean[] = [];
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (m: boolean) => modes.push(m) }) as PassThrough & PasswordInput;
    const prompts = sink();
    const pw = readPassword(tty, prompts, 'Password: ');
    tty.write('hunter22x');
    tty.write('\u007f');
    tty.write('\r');
    expect(await pw).toBe('hunter22');
    expect(modes).toEqual([true, false]);
    expect(prompts.text()).toBe('Password: \n'); // the prompt, never the characters
  });

  it('stops on Ctrl-C from a terminal', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined }) as PassThrough & PasswordInput;
    const pw = readPassword(tty, sink(), 'Password: ');
    tty.write('abc\u0003');
    await expect(pw).rejects.toMatchObject({ code: 'PKL_PAYLOAD_INVALID', details: { reason: 'cancelled' } });
  });
});

describe('checkPassword', () => {
  it('wants at least 8 characters (counted as characters, not bytes)', () => {
    expect(() => checkPassword('1234567')).toThrow(/at least 8/);
    expect(() => checkPassword('主管密码主管密码')).not.toThrow();
    expect(() => checkPassword('主管密码')).toThrow(PacklineError);
    expect(() => checkPassword('x'.repeat(257))).toThrow(/at most 256/);
  });
});

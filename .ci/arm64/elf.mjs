// ELF header check without `file(1)`: reads e_ident and e_machine (System V ABI, ELF header:
// EI_CLASS at byte 4 (2 = 64-bit), EI_DATA at byte 5 (1 = little endian), e_machine at byte 18,
// EM_AARCH64 = 183 = 0xB7, EM_X86_64 = 62).
//
//   node .ci/arm64/elf.mjs <file>...   prints each file's machine; exits 1 if any is not arm64
import { openSync, readSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MACHINES = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'aarch64', 243: 'riscv' };

/** @returns {{ file: string, machine: string, arm64: boolean }} */
export function elfMachine(file) {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  let n;
  try {
    n = readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 20 || head.readUInt32BE(0) !== 0x7f454c46) return { file, machine: 'not an ELF file', arm64: false };
  const bits = head[4] === 2 ? '64-bit' : '32-bit';
  const little = head[5] === 1;
  const em = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  const name = MACHINES[em] ?? `e_machine 0x${em.toString(16)}`;
  return { file, machine: `${bits} ${name}`, arm64: em === 183 && head[4] === 2 && little };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    const r = elfMachine(f);
    if (!r.arm64) bad++;
    console.log(`  ${r.arm64 ? 'arm64 ' : 'NOT ARM64'}  ${r.machine.padEnd(16)} ${f}`);
  }
  process.exitCode = bad === 0 ? 0 : 1;
}

#!/usr/bin/env node
// Entry point of the `packline` command. Packline runs from its TypeScript sources through
// tsx's loader (see docs/decisions/0001-stack.md: one artefact for dev, CI and the Pi; the
// transform is cached), so this shim only registers the loader and hands over.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../gateway/src/cli.ts');
process.exitCode = await main(process.argv);

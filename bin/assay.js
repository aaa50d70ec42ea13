#!/usr/bin/env node
// The `assay` command. TypeScript sources run through tsx's loader, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { moderateHeapGrowth } = await import('../src/heap.ts');
moderateHeapGrowth();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);

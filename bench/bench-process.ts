/** Helpers shared by the benchmarks: size settings and the peak-memory child process. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from './run.ts';

/** A positive whole-number size from the environment (benchmark settings only), noted when set. */
export function setting(report: BenchReport, key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive whole number`);
  report.note(`${key}=${value}`);
  return value;
}

const childScript = fileURLToPath(new URL('./peak-memory.child.ts', import.meta.url));
/** The project root: `--import tsx` resolves from the working directory. */
const root = fileURLToPath(new URL('../', import.meta.url));

/** Runs one task in bench/peak-memory.child.ts and returns the JSON line it prints. */
export function runChild<T>(report: BenchReport, task: Record<string, unknown>): Promise<T> {
  void report;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(task)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1);
      if (code !== 0 || !line) {
        reject(
          new Error(`the ${String(task.task)} child exited with ${code}: ${stderr.trim().slice(-2000)}`),
        );
        return;
      }
      resolve(JSON.parse(line) as T);
    });
  });
}

/**
 * Test receivers: the SMTP sink process and a local HTTP server that records what it is sent.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface ReceivedMail {
  from: string | null;
  to: string[];
  raw: string;
  /** The text with quoted-printable soft breaks and escapes undone. */
  text: string;
}

function decodeQuotedPrintable(raw: string): string {
  const latin1 = raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** Starts the SMTP sink as a separate process; stopped when the test ends. */
export async function startSmtpSink(t: { after: (fn: () => void | Promise<void>) => void }) {
  const script = fileURLToPath(new URL('./smtp-sink.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: ReceivedMail[] = [];
  let buffer = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`SMTP sink exited with ${code}`)));
    child.stdout.on('data', (data: Buffer) => {
      buffer += data.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (typeof line.port === 'number') resolve(line.port);
        else {
          const body = decodeQuotedPrintable(line.raw);
          const mimeWord = /=\?UTF-8\?Q\?([^?]*)\?=/gi;
          messages.push({
            ...line,
            text: body.replace(mimeWord, (_m, word: string) =>
              decodeQuotedPrintable(word.replace(/_/g, ' ')),
            ),
          });
        }
        newline = buffer.indexOf('\n');
      }
    });
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  /**
   * Resolves once `count` messages have been read from the sink. The sink prints a message
   * before it acknowledges it, but the sender's "250" and the sink's line reach this process on
   * different channels, in either order.
   */
  const arrived = async (count: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} message(s) at the SMTP sink, saw ${messages.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return messages;
  };
  return { url: `smtp://127.0.0.1:${port}`, messages, arrived };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A local HTTP server recording every request. `status` decides each answer (by the request's
 * index), e.g. to fail the first delivery and accept the retry.
 */
export async function startHttpReceiver(
  t: { after: (fn: () => void | Promise<void>) => void },
  status: (index: number) => number = () => 200,
) {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.statusCode = status(index);
      response.end(response.statusCode < 300 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests };
}

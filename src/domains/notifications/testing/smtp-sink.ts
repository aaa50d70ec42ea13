/**
 * A real SMTP server for tests, run as its own process: it accepts every message on 127.0.0.1
 * and prints one JSON line per message (`{ from, to, raw }`) on stdout, after a first line
 * `{ "port": N }`.
 */
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((r) => r.address);
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
      // Acknowledge only once the line has left this process, so a sender never hears "250"
      // for a message the test cannot yet see.
      process.stdout.write(
        `${JSON.stringify({ from, to, raw: Buffer.concat(chunks).toString('utf8') })}\n`,
        () => callback(),
      );
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));

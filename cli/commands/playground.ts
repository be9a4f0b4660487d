// wfk playground: the filters in host-sim in a browser page.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('playground')
    .description('build the filters and serve the playground page: pick filters, configure them, send requests, share the setup')
    .option('--port <port>', 'the port to serve on (the next free one if taken)', '5173')
    .option('--no-open', 'do not open a browser')
    .action(async (options: { port: string; open: boolean }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${options.port}" is not a port number`);
      const { servePlayground } = await import('../playground.js');
      await servePlayground((line) => process.stdout.write(`${line}\n`), { port, open: options.open });
    });
}

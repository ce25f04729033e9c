import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';

/**
 * xz and bzip2 bodies of `docker load` and `docker import`, decoded by the system's `xz` and `bzip2`
 * commands: Docker itself runs `xz -d -c -q` (go-archive's DecompressStream), and neither format
 * has a decoder among Node's modules. Only whole archives and import bodies come this way; image
 * layers are gzip or zstd.
 */
export type CommandCompression = 'xz' | 'bzip2';

const COMMANDS: Record<CommandCompression, { command: string; from: string }> = {
  xz: { command: 'xz', from: 'xz-utils' },
  bzip2: { command: 'bzip2', from: 'bzip2' },
};

/**
 * A decompressing duplex over the command's stdin and stdout. The stream ends only once the
 * command has exited 0; otherwise it fails with what the command wrote to stderr. Destroying it
 * (a bomb stopped by its guard, a client gone) kills the command.
 */
export function createCommandDecompressor(compression: CommandCompression): Duplex {
  return new CommandDecompressor(compression);
}

const STDERR_KEPT = 4096;

class CommandDecompressor extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';

  constructor(compression: CommandCompression) {
    super();
    const { command, from } = COMMANDS[compression];
    this.child = spawn(command, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.child.stdout.pause();
    });
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += text;
    });
    // A command that exits early closes its stdin under us; its exit status says why.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      this.destroy(
        err.code === 'ENOENT'
          ? new Error(`${compression}-compressed input needs the ${command} command (Debian's ${from}), which is not installed`)
          : err,
      );
    });
    this.child.on('close', (code, signal) => {
      if (code === 0) this.push(null);
      else if (!this.destroyed) this.destroy(new Error(this.stderr.trim().replace(/^\S+: /, '') || `${command} exited with ${signal ?? `status ${code}`}`));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // Errors writing are the command's early exit, reported by 'close'.
    this.child.stdin.write(chunk, () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.child.stdin.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    done(err);
  }
}

import { promises as fs } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { UnavailableError } from '../errors.js';

/**
 * One daemon per data root. The lock is a unix socket the daemon listens on: a live daemon
 * answers a connect, a file left by a killed one refuses it and is taken over. Unlike a PID file,
 * this cannot be fooled by a reused process ID.
 */
export async function lockDataRoot(dataRoot: string): Promise<{ release(): Promise<void> }> {
  const file = path.join(dataRoot, 'ladingd.lock');
  let server: Server;
  try {
    server = await listenOn(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await answers(file)) {
      throw new UnavailableError(`another ladingd is already running with data root ${dataRoot}`);
    }
    await fs.rm(file, { force: true });
    server = await listenOn(file);
  }
  server.unref();
  return {
    release: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

function listenOn(file: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end());
    server.once('error', reject);
    server.listen(file, () => resolve(server));
  });
}

/** Whether something listens on the unix socket `file`. */
export function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(file);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

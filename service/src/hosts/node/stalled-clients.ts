import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Drops a client that stopped reading: a socket with response bytes waiting to be sent and nothing
 * sent or received for `stallMs`. Streams are paced by their reader (the command blocks on its
 * output), so without this a client that never reads would hold its socket and the stream behind it
 * for as long as it stays connected. An idle socket with nothing to send (a long exec, a quiet log
 * follower between heartbeats, a keep-alive connection) is left alone.
 */
export function dropStalledClients(server: Server, stallMs: number): void {
  // A listener for the server's "timeout" also replaces node:http's default, which destroys every
  // socket that times out, busy or idle.
  server.setTimeout(stallMs, (socket: Socket) => {
    if (socket.writableLength > 0) socket.destroy();
  });
}

/** Tar archives built in tests with tar-stream, member by member, as any client (or a hostile one) would make them. */
import tar from "tar-stream";

export type Member = { header: Partial<tar.Header> & { name: string }; body?: Uint8Array };

/** A tar archive of `members`, in order. */
export async function archiveOf(members: Iterable<Member>): Promise<Uint8Array> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of pack as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return new Uint8Array(Buffer.concat(chunks));
  })();
  for (const { header, body } of members) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header as tar.Header, body as Buffer, done);
      else pack.entry(header as tar.Header, done);
    });
  }
  pack.finalize();
  return collected;
}

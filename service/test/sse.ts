/** Server-sent events for the tests, in web APIs only (the workerd suites use it too). */

export interface SseEvent {
  event: string;
  data: any;
}

/** Takes the complete events off the front of `buffer`; returns them and what is left (a partial event). */
export function takeSseEvents(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let end: number;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (event && data) events.push({ event, data: JSON.parse(data) });
  }
  return { events, rest: buffer };
}

/** Reads a text/event-stream body until it ends, or until `stop` says so (then the connection is dropped). */
export async function readEvents(res: Response, stop: (e: SseEvent) => boolean | void = () => false): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    const taken = takeSseEvents(buffer + value);
    buffer = taken.rest;
    for (const e of taken.events) {
      events.push(e);
      if (stop(e) === true) {
        await reader.cancel();
        return events;
      }
    }
  }
}

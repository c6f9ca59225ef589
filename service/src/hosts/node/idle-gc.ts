import { performance } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How often the host looks at its heap, and how much garbage or spare room it may hold before a collection. */
const CHECK_MS = 5000;
const GROWTH_BYTES = 16 * 1024 * 1024;
/** Busier than this (share of the interval spent running), and the collection waits. */
const IDLE_UTILIZATION = 0.05;

/**
 * Returns the host's memory to the system once a burst is over. V8 collects garbage as it allocates;
 * a host that goes quiet after a burst (a sandbox's processes printing hundreds of megabytes, then
 * deleted) keeps the burst's garbage in its heap, and so in its RSS, until something allocates again.
 * When the heap grew by more than GROWTH_BYTES since the last full collection, or holds that much
 * more memory than it uses, and the event loop was nearly idle over the last CHECK_MS, this runs one
 * (a few milliseconds for a heap this size), which also gives back the pages it does not need.
 */
export function collectWhenIdle(): () => void {
  setFlagsFromString("--expose-gc");
  // The "last resort" flavour collects everything it can and gives unused pages back to the system
  // (a regular full collection keeps them for reuse).
  const gc = runInNewContext("gc") as (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;
  let floor = getHeapStatistics().used_heap_size;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > IDLE_UTILIZATION) return;
    const heap = getHeapStatistics();
    // Garbage not yet found (used grew), or pages a burst made V8 commit that it keeps for reuse.
    if (heap.used_heap_size < floor + GROWTH_BYTES && heap.total_physical_size < heap.used_heap_size + GROWTH_BYTES) return;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    floor = getHeapStatistics().used_heap_size;
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

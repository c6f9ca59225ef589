import { readFileSync } from "node:fs";
import { endianness } from "node:os";

/** The sandbox links' addresses: slots of the private pool, and the machine's routes they must avoid. */

/**
 * The private range sandbox links are cut from: /30s of 10.200.0.0/16, slot n being
 * 10.200.0.0 + 4n (the host side .1, the sandbox .2). Every Sandgate host on the machine uses the
 * same mapping and the kernel's interface names as the lock (`sgv<slot>`: creating an existing one
 * fails), so two hosts never hand out one subnet twice; slots whose subnet overlaps any other route
 * of the machine are skipped.
 */
export const POOL_BASE = (10 << 24) | (200 << 16);
export const POOL_SLOTS = 16384;
/** The host-side veth of every Sandgate sandbox on this machine starts so (the firewall matches on it). */
export const VETH_PREFIX = "sgv";
/** The IPv4 address `host` (1: host side, 2: sandbox) of a slot's /30. */
export function slotAddress(slot: number, host: 1 | 2): string {
  return ipText(POOL_BASE + slot * 4 + host);
}

export function slotNetwork(slot: number): Route {
  return { dst: POOL_BASE + slot * 4, mask: 0xfffffffc };
}

export function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Route {
  dst: number;
  mask: number;
}

/** The machine's IPv4 routes (main table) other than the default route and Sandgate's own links. */
export function hostRoutes(): Route[] {
  let text: string;
  try {
    // Read synchronously on purpose: allocation must not yield, so two creates never pick one slot.
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return [];
  }
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [iface, dst, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !dst || !mask || iface.startsWith(VETH_PREFIX)) continue;
    const route = { dst: hexAddress(dst), mask: hexAddress(mask) };
    if (route.mask !== 0) routes.push(route);
  }
  return routes;
}

export function overlaps(a: Route, b: Route): boolean {
  const mask = (a.mask & b.mask) >>> 0;
  return ((a.dst & mask) >>> 0) === ((b.dst & mask) >>> 0);
}

/** An address as /proc/net/route prints it: the 32 bits in the machine's byte order, in hex. */
export function hexAddress(hex: string): number {
  const bytes = Buffer.from(hex, "hex");
  if (endianness() === "LE") bytes.reverse();
  return bytes.readUInt32BE(0);
}


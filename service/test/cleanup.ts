/**
 * A setup file of both vitest configs: after each test file (its own afterAll hooks run first), removes
 * every directory the file made with host.ts's tempDir, host data dirs included.
 */
import { afterAll } from "vitest";
import { removeTempDirs } from "./host.ts";

afterAll(() => removeTempDirs());

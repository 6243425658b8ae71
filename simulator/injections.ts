import type { Fault } from "./faults";
import { parseFault } from "./faults";

export interface Injection {
  /** An image id, or "*" for every image. */
  imageId: string;
  fault: Fault;
  /** Requests left before the injection expires, or Infinity if unlimited. */
  remaining: number;
}

/** Injected faults. The most recent injection that matches an id wins. */
export class Injections {
  private entries: Injection[] = [];

  add(imageId: string, fault: Fault, times?: number): void {
    if (typeof imageId !== "string" || imageId === "") {
      throw new TypeError(
        `Invalid imageId ${JSON.stringify(imageId)}: expected an image id or "*".`,
      );
    }
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      throw new RangeError(
        `Invalid times ${JSON.stringify(times)}: expected a positive integer.`,
      );
    }

    const remaining = times ?? Infinity;
    this.entries.push({ imageId, fault: parseFault(fault), remaining });
  }

  /** Returns the injection for `imageId` without using it up. */
  find(imageId: string): Injection | undefined {
    for (let index = this.entries.length - 1; index >= 0; index--) {
      const entry = this.entries[index];
      if (entry !== undefined && matches(entry, imageId)) {
        return entry;
      }
    }
    return undefined;
  }

  /** Counts one use of `injection` and removes it when none are left. */
  use(injection: Injection): void {
    injection.remaining -= 1;
    if (injection.remaining <= 0) {
      this.entries = this.entries.filter((entry) => entry !== injection);
    }
  }

  clear(): void {
    this.entries = [];
  }
}

function matches(entry: Injection, imageId: string): boolean {
  return entry.imageId === "*" || entry.imageId === imageId;
}

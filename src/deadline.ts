/**
 * The time by which one GraphQL request must have its upstream answers.
 * Every upstream call and retry of the request fits inside it.
 */
export class Deadline {
  readonly expiresAt: number;

  constructor(
    readonly budgetMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.expiresAt = now() + budgetMs;
  }

  /** Milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, this.expiresAt - this.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }
}

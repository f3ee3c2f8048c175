/** Keys remembered for a while, at most `max` of them (the oldest go first). */
export class RecentKeys {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(key: string): void {
    this.until.delete(key); // re-inserted last: the map stays in expiry order
    this.until.set(key, this.now() + this.ttlMs);
    this.prune();
  }

  has(key: string): boolean {
    const until = this.until.get(key);
    return until !== undefined && until > this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [key, until] of this.until) {
      if (until > now && this.until.size <= this.max) break;
      this.until.delete(key);
    }
  }
}

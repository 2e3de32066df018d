/**
 * The last `limit` bytes of a stream, cut at a line start: what a run is judged by (agents say how it
 * went at the end). Keeps the chunks as they came (a character split between two is whole again when
 * decoded, once, in `text`) and never holds more than about twice `limit`: past that, only the last
 * `limit` bytes (and the one before them, to tell whether they start a line) are kept, copied so that
 * the big chunks they came from can be freed. Linear in the stream: each byte is copied at most once
 * per `limit` bytes pushed after it.
 */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.size += data.length;
    if (this.size > 2 * this.limit) this.compact();
  }

  /** The bytes held (at most about twice the limit, besides the chunk being pushed). */
  get heldBytes(): number {
    return this.size;
  }

  text(): string {
    const all = this.last(this.limit + 1);
    if (all.length <= this.limit) return all.toString('utf8');
    // Cut: the text starts at the first line that starts within the last `limit` bytes.
    const newline = all.indexOf(0x0a);
    if (newline >= 0 && newline < all.length - 1) return all.subarray(newline + 1).toString('utf8');
    // No line starts there: the last `limit` bytes, from a character's start.
    let start = all.length - this.limit;
    while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    return all.subarray(start).toString('utf8');
  }

  /** Keeps the last `limit + 1` bytes, in a buffer of their own. */
  private compact(): void {
    const kept = Buffer.from(this.last(this.limit + 1)); // a copy: the big chunks can go
    this.chunks = [kept];
    this.size = kept.length;
  }

  /** The last `count` bytes held (or all of them), as one buffer. */
  private last(count: number): Buffer {
    const parts: Buffer[] = [];
    let need = Math.min(count, this.size);
    for (let i = this.chunks.length - 1; i >= 0 && need > 0; i--) {
      const chunk = this.chunks[i]!;
      const part = chunk.length <= need ? chunk : chunk.subarray(chunk.length - need);
      parts.push(part);
      need -= part.length;
    }
    parts.reverse();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/**
 * Splits a byte stream into NDJSON lines of at most `maxLine` bytes. A longer line is reported once
 * through `onOversize` and skipped up to its newline, so the stream stays usable after it.
 */
export class LineReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversize: () => void,
  ) {}

  push(data: Buffer): void {
    let rest = data;
    for (;;) {
      const nl = rest.indexOf(0x0a);
      if (nl < 0) {
        if (this.skipping) return;
        this.chunks.push(rest);
        this.size += rest.length;
        if (this.size > this.maxLine) {
          this.chunks = [];
          this.size = 0;
          this.skipping = true;
          this.onOversize();
        }
        return;
      }
      const head = rest.subarray(0, nl);
      rest = rest.subarray(nl + 1);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (this.size + head.length > this.maxLine) {
        this.chunks = [];
        this.size = 0;
        this.onOversize();
        continue;
      }
      const line = Buffer.concat([...this.chunks, head]).toString("utf8");
      this.chunks = [];
      this.size = 0;
      const trimmed = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (trimmed.trim() !== "") this.onLine(trimmed);
    }
  }
}

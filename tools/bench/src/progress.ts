/** Progress lines on stderr while the bench runs (stdout keeps the tables). */
export class Progress {
  private readonly started = Date.now();

  private stamp(): string {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    return `[${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}]`;
  }

  step(text: string): void {
    process.stderr.write(`${this.stamp()} ${text} ...\n`);
  }

  done(text: string): void {
    process.stderr.write(`${this.stamp()}   ${text}\n`);
  }
}

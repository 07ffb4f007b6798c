// A background task on its own timer, the building block of both backends' maintenance (River's
// rescuer, cleaner and scheduler are one each).
//
// States: stopped → waiting (timer armed; the first delay is jittered so processes started
// together spread out) → running → waiting … `stop()` disarms and waits for a running tick. A tick
// that throws is reported and the next one runs as usual. Timers are unref'd: maintenance never
// keeps a process alive on its own.

export type TaskErrorReporter = (error: unknown, context: string) => void;

export class PeriodicTask {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #run: () => Promise<void>;
  readonly #onError: TaskErrorReporter;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;

  constructor(name: string, intervalMs: number, run: () => Promise<void>, onError: TaskErrorReporter) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#run = run;
    this.#onError = onError;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm(Math.floor(Math.random() * this.#intervalMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.#run()
        .catch((error: unknown) => this.#onError(error, `queue maintenance task ${this.#name} failed`))
        .finally(() => {
          this.#running = null;
          this.#arm(this.#intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}

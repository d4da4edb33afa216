/**
 * Requests being served right now: background work yields to them (see DetectorEngine.drain and the
 * detector worker). The count lives in shared memory so the detector worker thread reads it with one
 * atomic load, without a message per request. Only the request thread writes it.
 */
export class RequestLoad {
  readonly buffer: SharedArrayBuffer;
  private readonly count: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.buffer = buffer;
    this.count = new Int32Array(buffer, 0, 1);
  }

  get inFlight(): number {
    return Atomics.load(this.count, 0);
  }

  set inFlight(value: number) {
    Atomics.store(this.count, 0, value);
  }
}

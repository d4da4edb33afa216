/** Requests being served right now: background work yields to them (see DetectorEngine.drain). */
export class RequestLoad {
  inFlight = 0;
}

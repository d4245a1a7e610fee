// Whether a node is still there, from what reaches the browser on a media connection. A node
// sends its program without a pause, silence included, and answers the browser's ICE checks
// (every 2.5 s or so on a working connection); a node that is gone (killed, its machine lost)
// sends nothing more, and says nothing either: Chromium calls the connection "disconnected" only
// 7 to 8 s later. Nothing at all for SILENT_MS says it sooner. A node that is there with no audio
// to send for a while (relaying a space whose home node just went away, until another takes
// the space over) still answers the checks: its listeners keep their connection meanwhile, and
// do not all offer again at the moment the nodes have the most to do.
export const SILENT_MS = 4000;
export const LOOK_EVERY_MS = 1000;

// All that has come in on a connection so far: media bytes, ICE answers and requests. Summed
// over every candidate pair, since the one in use may change.
export function received(report) {
  let total = 0;
  report.forEach((stat) => {
    if (stat.type === "transport") total += stat.bytesReceived || 0;
    if (stat.type === "candidate-pair") total += (stat.responsesReceived || 0) + (stat.requestsReceived || 0);
  });
  return total;
}

// The browser's own timers (called as functions: a timer called as an object's method throws).
const REAL_CLOCK = { now: () => Date.now(), every: (f, ms) => setInterval(f, ms), stop: (timer) => clearInterval(timer) };

// Calls `onSilent` once, when nothing has come in on `pc` for SILENT_MS; stops then, or when
// the connection closes. `clock` is for tests.
export function whenSilent(pc, onSilent, clock = REAL_CLOCK) {
  let last = -1;
  let since = clock.now();
  const timer = clock.every(async () => {
    if (pc.connectionState === "closed") return clock.stop(timer);
    const report = await pc.getStats().catch(() => null); // closed meanwhile
    if (!report) return;
    const total = received(report);
    if (total !== last) {
      last = total;
      since = clock.now();
    } else if (clock.now() - since >= SILENT_MS) {
      clock.stop(timer);
      onSilent();
    }
  }, LOOK_EVERY_MS);
}

// Phones get a compact header and control bar, built differently rather than only styled
// differently, so that the order of the controls (and of Tab) is the order they are seen in.
// The width is app.css's "small screens": keep the two equal.
const query = matchMedia("(max-width: 40rem)");

export const isNarrow = () => query.matches;

// Calls `redraw` whenever the page crosses that width (a phone turned, a window resized);
// returns what stops it.
export function onNarrowChange(redraw) {
  query.addEventListener("change", redraw);
  return () => query.removeEventListener("change", redraw);
}

// Durations as Envoy and Istio write them in configuration: "250ms", "1s", "1.5s", "10m", "1h".

const NANOS_PER: i64[] = [1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000];
const UNITS: string[] = ["ns", "us", "ms", "s", "m", "h"];

/** Nanoseconds in `text`, or -1 when it is not a duration. Accepts one number and one unit. */
export function parseDuration(text: string): i64 {
  let i = 0;
  let whole: i64 = 0;
  let digits = 0;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
    whole = whole * 10 + <i64>(text.charCodeAt(i) - 48);
    if (whole > 1_000_000_000_000) return -1;
    i++;
    digits++;
  }
  let fraction: i64 = 0;
  let scale: i64 = 1;
  if (i < text.length && text.charCodeAt(i) == 46) {
    i++;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
      if (scale < 1_000_000_000) { fraction = fraction * 10 + <i64>(text.charCodeAt(i) - 48); scale *= 10; }
      i++;
      digits++;
    }
  }
  if (digits == 0) return -1;
  const unit = text.substring(i);
  for (let u = 0; u < UNITS.length; u++) {
    if (unit == UNITS[u]) return whole * NANOS_PER[u] + fraction * NANOS_PER[u] / scale;
  }
  return -1;
}

/** A duration for people: "1s", "250ms", "1.5s", "10m". */
export function formatDuration(nanos: i64): string {
  if (nanos % 3_600_000_000_000 == 0 && nanos > 0) return (nanos / 3_600_000_000_000).toString() + "h";
  if (nanos % 60_000_000_000 == 0 && nanos > 0) return (nanos / 60_000_000_000).toString() + "m";
  if (nanos % 1_000_000_000 == 0) return (nanos / 1_000_000_000).toString() + "s";
  if (nanos % 1_000_000 == 0) return (nanos / 1_000_000).toString() + "ms";
  return nanos.toString() + "ns";
}

// Alert sounds made with WebAudio (no audio files). Browsers only start audio after a user
// gesture: the first key press or tap unlocks it; a kiosk started with
// --autoplay-policy=no-user-gesture-required beeps from the start (docs/ui.md).
let ctx = null;

function audio() {
  if (ctx === null) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

for (const ev of ['keydown', 'pointerdown']) window.addEventListener(ev, () => audio(), { once: true, capture: true });

const PATTERNS = {
  // Three long high square-wave beeps: cannot be mistaken for the scanner's chirp.
  intercept: [
    [880, 0.35],
    [0, 0.12],
    [880, 0.35],
    [0, 0.12],
    [880, 0.35],
  ],
  alert: [
    [880, 0.35],
    [0, 0.12],
    [880, 0.35],
    [0, 0.12],
    [880, 0.35],
  ],
  hold: [
    [660, 0.3],
    [0, 0.15],
    [520, 0.45],
  ],
  ok: [[1320, 0.08]],
};

/** Plays a pattern; counts it on <body data-beeps> (what the browser tests check). */
export function beep(kind) {
  document.body.dataset.beeps = String(Number(document.body.dataset.beeps ?? 0) + (kind === 'ok' ? 0 : 1));
  document.body.dataset.lastBeep = kind;
  const ac = audio();
  if (ac === null) return;
  let at = ac.currentTime + 0.01;
  for (const [freq, secs] of PATTERNS[kind] ?? PATTERNS.alert) {
    if (freq > 0) {
      const osc = ac.createOscillator();
      const gain = ac.createGain();
      osc.type = kind === 'ok' ? 'sine' : 'square';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(kind === 'ok' ? 0.15 : 0.4, at);
      gain.gain.setTargetAtTime(0, at + secs - 0.03, 0.01);
      osc.connect(gain).connect(ac.destination);
      osc.start(at);
      osc.stop(at + secs);
    }
    at += secs;
  }
}

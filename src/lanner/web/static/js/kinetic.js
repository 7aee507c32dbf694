/* Lasair's kinetic display: a 32x32 Game of Life (toroidal) seeded by the positions of each
 * batch of alerts: RA 0..360 -> column, Dec -90..90 -> row (north up). New batches (polled
 * from /kinetic.json) add live cells; the board steps twice a second. */
(function () {
  "use strict";
  const N = 32;
  const canvas = document.getElementById("life");
  const ctx = canvas.getContext("2d");
  const state = document.getElementById("life-state");
  const pause = document.getElementById("life-pause");
  let board = new Uint8Array(N * N);
  let lastBatch = null;
  let generation = 0;
  let paused = false;

  function seed(positions) {
    for (const [ra, dec] of positions) {
      const x = Math.min(N - 1, Math.floor((ra / 360) * N));
      const y = Math.min(N - 1, Math.floor(((90 - dec) / 180) * N));
      board[y * N + x] = 1;
    }
  }

  function step() {
    const next = new Uint8Array(N * N);
    for (let y = 0; y < N; y++) {
      for (let x = 0; x < N; x++) {
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          if (dx || dy) n += board[((y + dy + N) % N) * N + ((x + dx + N) % N)];
        }
        const alive = board[y * N + x];
        next[y * N + x] = (alive && (n === 2 || n === 3)) || (!alive && n === 3) ? 1 : 0;
      }
    }
    board = next;
    generation++;
  }

  function draw() {
    const img = ctx.createImageData(N, N);
    let live = 0;
    for (let i = 0; i < N * N; i++) {
      const on = board[i];
      live += on;
      img.data[i * 4] = on ? 255 : 16; img.data[i * 4 + 1] = on ? 190 : 36;
      img.data[i * 4 + 2] = on ? 40 : 62; img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    canvas.dataset.live = String(live);
    return live;
  }

  async function poll() {
    try {
      const r = await fetch("/kinetic.json");
      const data = await r.json();
      if (data.batch && data.batch !== lastBatch) {
        lastBatch = data.batch;
        seed(data.positions);
        canvas.dataset.seeded = String(data.positions.length);
        state.textContent = "Batch of " + data.batch + ": " + data.positions.length + " alerts.";
        draw();
      } else if (!data.batch) {
        state.textContent = "No alerts in the archive yet.";
      }
    } catch (err) {
      state.textContent = "Cannot read the latest batch: " + err;
    }
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
  });
  poll().then(draw);
  setInterval(() => { if (!paused) { step(); draw(); } }, 500);
  setInterval(poll, 30000);
})();

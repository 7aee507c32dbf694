/* A small FITS image viewer: reads the first image HDU of a FITS file (BITPIX 8, 16, 32,
 * 64, -32, -64; BSCALE/BZERO), stretches it between the 0.5 and 99.5 percentiles (asinh)
 * and draws it on a canvas, north up (FITS rows start at the bottom).
 * LannerFITS.show(canvas, url) -> Promise resolving to {width, height, min, max}. */
(function () {
  "use strict";
  const BLOCK = 2880;

  function header(bytes, start) {
    const cards = {};
    let pos = start;
    for (;;) {
      if (pos + 80 > bytes.length) throw new Error("FITS header has no END card");
      const card = String.fromCharCode.apply(null, bytes.subarray(pos, pos + 80));
      pos += 80;
      const key = card.slice(0, 8).trim();
      if (key === "END") break;
      if (card[8] === "=") {
        let v = card.slice(10).split("/")[0].trim();
        if (v.startsWith("'")) v = v.replace(/^'|'\s*$/g, "").trim();
        cards[key] = v;
      }
    }
    const dataStart = Math.ceil(pos / BLOCK) * BLOCK;
    return { cards: cards, dataStart: dataStart };
  }

  function image(buffer) {
    const bytes = new Uint8Array(buffer);
    let start = 0;
    for (let hdu = 0; hdu < 8 && start < bytes.length; hdu++) {
      const h = header(bytes, start);
      const c = h.cards;
      const naxis = parseInt(c.NAXIS || "0", 10);
      const bitpix = parseInt(c.BITPIX, 10);
      const dims = [];
      for (let i = 1; i <= naxis; i++) dims.push(parseInt(c["NAXIS" + i], 10));
      const count = dims.length ? dims.reduce((a, b) => a * b, 1) : 0;
      const size = count * Math.abs(bitpix) / 8;
      if (naxis >= 2 && count > 0 && c.XTENSION !== "BINTABLE") {
        const w = dims[0], hgt = dims[1];
        const view = new DataView(buffer, h.dataStart, w * hgt * Math.abs(bitpix) / 8);
        const scale = parseFloat(c.BSCALE || "1"), zero = parseFloat(c.BZERO || "0");
        const px = new Float64Array(w * hgt);
        const step = Math.abs(bitpix) / 8;
        for (let i = 0; i < px.length; i++) {
          const o = i * step;
          let v;
          switch (bitpix) {
            case 8: v = view.getUint8(o); break;
            case 16: v = view.getInt16(o); break;
            case 32: v = view.getInt32(o); break;
            case 64: v = Number(view.getBigInt64(o)); break;
            case -32: v = view.getFloat32(o); break;
            case -64: v = view.getFloat64(o); break;
            default: throw new Error("unsupported BITPIX " + bitpix);
          }
          px[i] = v * scale + zero;
        }
        return { width: w, height: hgt, pixels: px };
      }
      start = h.dataStart + Math.ceil(size / BLOCK) * BLOCK;
    }
    throw new Error("no image in this FITS file");
  }

  function draw(canvas, img) {
    const finite = Array.from(img.pixels).filter(Number.isFinite).sort((a, b) => a - b);
    const lo = finite.length ? finite[Math.floor(finite.length * 0.005)] : 0;
    const hi = finite.length ? finite[Math.min(finite.length - 1, Math.floor(finite.length * 0.995))] : 1;
    const span = hi > lo ? hi - lo : 1;
    const soft = 0.1;
    const norm = Math.asinh(1 / soft);
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    const out = ctx.createImageData(img.width, img.height);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const v = img.pixels[y * img.width + x];
        const t = Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / span)) : 0;
        const g = Math.round(255 * Math.asinh(t / soft) / norm);
        const o = ((img.height - 1 - y) * img.width + x) * 4;
        out.data[o] = out.data[o + 1] = out.data[o + 2] = g;
        out.data[o + 3] = 255;
      }
    }
    ctx.putImageData(out, 0, 0);
    canvas.dataset.loaded = "true";
    return { width: img.width, height: img.height, min: lo, max: hi };
  }

  async function show(canvas, url) {
    canvas.dataset.loaded = "false";
    const response = await fetch(url);
    if (!response.ok) throw new Error("cutout " + url + ": HTTP " + response.status);
    return draw(canvas, image(await response.arrayBuffer()));
  }

  window.LannerFITS = { show: show, image: image };
})();

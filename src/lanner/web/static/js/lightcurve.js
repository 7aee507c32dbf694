/* Light curve of one object with Plotly: detections (filled, with error bars), forced
 * photometry (open), upper limits (triangles), one trace per band and kind, in flux (nJy)
 * or AB magnitude, and the Bazin x blackbody model (dashed) when the object has one.
 * LannerLC.draw(element, lightCurve, "flux" | "mag") */
(function () {
  "use strict";
  const COLOURS = { u: "#5b2a86", g: "#1a7f37", r: "#c0392b", i: "#b35900", z: "#5c4033",
    y: "#333333" };
  const colour = (b) => COLOURS[b] || "#0b5cad";
  const num = (v) => (v === null || v === undefined ? null : Number(v));

  function byBand(rows) {
    const out = {};
    for (const r of rows) { (out[r.band] = out[r.band] || []).push(r); }
    return out;
  }

  function fluxToMag(f) { return f > 0 ? 31.4 - 2.5 * Math.log10(f) : null; }

  // A table sent by column ({mjd: [...], band: [...]}) as rows; rows stay rows.
  function rows(table) {
    if (!table || Array.isArray(table)) { return table || []; }
    const keys = Object.keys(table);
    const n = keys.length ? table[keys[0]].length : 0;
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = {};
      for (const k of keys) { r[k] = table[k][i]; }
      out[i] = r;
    }
    return out;
  }

  function traces(lc, mode) {
    const t = [];
    const det = byBand(rows(lc.detections));
    const fp = byBand(rows(lc.forced_photometry));
    const ul = byBand(rows(lc.upper_limits));
    for (const band of Object.keys(det).sort()) {
      const rows = det[band];
      const y = rows.map((r) => num(mode === "mag" ? r.mag : r.flux));
      const e = rows.map((r) => num(mode === "mag" ? r.mag_err : r.flux_err));
      t.push({ name: band + " detections", legendgroup: band, type: "scatter", mode: "markers",
        x: rows.map((r) => r.mjd), y: y, error_y: { type: "data", array: e, visible: true,
          color: colour(band), thickness: 1 },
        marker: { color: colour(band), size: 8, symbol: "circle" },
        customdata: rows.map((r) => r.source_id),
        meta: { kind: "detections", band: band },
        hovertemplate: "MJD %{x:.4f}<br>%{y:.3f}<br>id %{customdata}<extra>" + band + "</extra>" });
    }
    for (const band of Object.keys(fp).sort()) {
      const rows = fp[band];
      const y = rows.map((r) => (mode === "mag" ? fluxToMag(num(r.flux)) : num(r.flux)));
      t.push({ name: band + " forced", legendgroup: band, type: "scatter", mode: "markers",
        x: rows.map((r) => r.mjd), y: y,
        error_y: mode === "mag" ? undefined : { type: "data", array: rows.map((r) => num(r.flux_err)),
          visible: true, color: colour(band), thickness: 1 },
        marker: { color: colour(band), size: 7, symbol: "circle-open" },
        meta: { kind: "forced_photometry", band: band },
        hovertemplate: "MJD %{x:.4f}<br>%{y:.3f}<extra>" + band + " forced</extra>" });
    }
    for (const band of Object.keys(ul).sort()) {
      const rows = ul[band];
      t.push({ name: band + " upper limits", legendgroup: band, type: "scatter", mode: "markers",
        x: rows.map((r) => r.mjd),
        y: rows.map((r) => num(mode === "mag" ? r.limit_mag : r.limit_flux)),
        marker: { color: colour(band), size: 8, symbol: mode === "mag" ? "triangle-down-open" : "triangle-up-open",
          opacity: 0.6 },
        meta: { kind: "upper_limits", band: band },
        hovertemplate: "MJD %{x:.4f}<br>limit %{y:.3f}<extra>" + band + "</extra>" });
    }
    for (const m of lc.model || []) {
      const y = m.flux.map((f) => (mode === "mag" ? fluxToMag(f) : f));
      t.push({ name: m.band + " BBB fit", legendgroup: m.band, type: "scatter", mode: "lines",
        x: m.mjd, y: y, line: { color: colour(m.band), dash: "dash", width: 1.5 },
        meta: { kind: "model", band: m.band }, hoverinfo: "skip" });
    }
    return t;
  }

  function draw(el, lc, mode) {
    const layout = {
      title: { text: mode === "mag" ? "AB magnitude" : "Difference flux (nJy)" },
      margin: { l: 60, r: 10, t: 40, b: 50 },
      xaxis: { title: { text: "MJD" }, exponentformat: "none", separatethousands: false },
      yaxis: { title: { text: mode === "mag" ? "mag" : "nJy" }, autorange: mode === "mag" ? "reversed" : true },
      legend: { orientation: "h", y: -0.2 },
      hovermode: "closest",
    };
    return Plotly.react(el, traces(lc, mode), layout, { responsive: true, displaylogo: false });
  }

  window.LannerLC = { draw: draw, traces: traces, rows: rows };
})();

/* Object page: draws the light curve, switches flux/magnitude, and shows the cutouts of the
 * chosen detection (image and FITS download). */
(function () {
  "use strict";
  const view = JSON.parse(document.getElementById("object-data").textContent);
  const lcEl = document.getElementById("lightcurve");
  function drawLC() {
    const mode = document.querySelector("input[name=lcview]:checked").value;
    window.LannerLC.draw(lcEl, view.light_curve, mode).then(() => { lcEl.dataset.drawn = mode; });
  }
  document.querySelectorAll("input[name=lcview]").forEach((r) => r.addEventListener("change", drawLC));
  drawLC();

  const pick = document.getElementById("cutout-pick");
  function showCutouts() {
    const id = pick.value;
    document.querySelectorAll("#cutouts canvas").forEach((canvas) => {
      const url = "/fits/" + id + "_cutout" + canvas.dataset.kind;
      canvas.nextElementSibling.querySelector("a").href = url;
      window.LannerFITS.show(canvas, url).catch((err) => {
        canvas.dataset.loaded = "error";
        canvas.setAttribute("aria-label", canvas.dataset.kind + " cutout: " + err.message);
      });
    });
  }
  if (pick) { pick.addEventListener("change", showCutouts); showCutouts(); }
})();

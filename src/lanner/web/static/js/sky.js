// Aladin Lite sky view of an object with its catalogue matches marked. The survey comes
// from the page (a setting); the widget starts without network access (tiles then stay
// blank), and says so under the view.
import A from "/static/vendor/aladin.js";

const el = document.getElementById("aladin");
const state = document.getElementById("aladin-state");
const dataEl = document.getElementById("object-data");
if (el && dataEl) {
  const view = JSON.parse(dataEl.textContent);
  A.init.then(() => {
    const aladin = A.aladin(el, {
      survey: el.dataset.survey.startsWith("/") ? location.origin + el.dataset.survey : el.dataset.survey,
      target: view.ra + " " + view.dec,
      fov: 0.02,
      log: false,
      showCooGridControl: false,
      showSettingsControl: false,
      showShareControl: false,
      showFullscreenControl: true,
    });
    const cat = A.catalog({ name: "Sky context", sourceSize: 14, color: "#ff8c00" });
    aladin.addCatalog(cat);
    for (const m of view.sky_marks) {
      cat.addSources([A.source(m.ra, m.dec, { name: m.label, kind: m.kind })]);
    }
    el.dataset.ready = "true";
    state.textContent = "Sky view of " + el.dataset.survey + "; orange marks: the object and its " +
      (view.sky_marks.length - 1) + " catalogue match(es).";
  }).catch((err) => {
    el.dataset.ready = "error";
    state.textContent = "The sky view could not start: " + err;
  });
}

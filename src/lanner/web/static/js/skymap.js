// A sky map's 50% and 90% credible regions (MOCs) drawn with Aladin Lite.
import A from "/static/vendor/aladin.js";

const el = document.getElementById("aladin");
const state = document.getElementById("aladin-state");
const data = JSON.parse(document.getElementById("sky-data").textContent);
A.init.then(() => {
  const aladin = A.aladin(el, {
    survey: el.dataset.survey.startsWith("/") ? location.origin + el.dataset.survey : el.dataset.survey, target: data.ra + " " + data.dec, fov: 60, log: false,
    showSettingsControl: false, showShareControl: false,
  });
  const styles = { moc90: { color: "#ff8c00", opacity: 0.25, lineWidth: 2, name: "90%" },
    moc50: { color: "#d62728", opacity: 0.4, lineWidth: 2, name: "50%" } };
  for (const key of ["moc90", "moc50"]) {
    if (data.mocs[key]) aladin.addMOC(A.MOCFromJSON(data.mocs[key], styles[key]));
  }
  el.dataset.ready = "true";
  state.textContent = "Orange: 90% credible region; red: 50%.";
}).catch((err) => { el.dataset.ready = "error"; state.textContent = "The sky view could not start: " + err; });

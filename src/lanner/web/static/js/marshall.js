/* Marshall keyboard shortcuts: j / ArrowRight next, k / ArrowLeft previous, f favourite,
 * v veto, c comment (not while typing in a field). */
(function () {
  "use strict";
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    const click = (id) => { const el = document.getElementById(id); if (el) { e.preventDefault(); el.click(); } };
    switch (e.key) {
      case "j": case "ArrowRight": click("next"); break;
      case "k": case "ArrowLeft": click("prev"); break;
      case "f": click("fav"); break;
      case "v": click("veto"); break;
      case "c": { const c = document.getElementById("comment"); if (c) { e.preventDefault(); c.focus(); } break; }
      default: break;
    }
  });
})();

/* Filter builder: autocompletion of tables, table.column names and functions in the SQL box
 * (from /filters/schema.json), click or Enter on a schema name to insert it, Ctrl+Enter to
 * run. Validation as you type is htmx's (hx-post on the textarea). */
(function () {
  "use strict";
  const box = document.getElementById("sql");
  const list = document.getElementById("suggest");
  if (!box || !list) return;
  let words = [];
  let shown = [];
  let active = -1;
  fetch("/filters/schema.json").then((r) => r.json()).then((schema) => {
    const w = new Set();
    for (const t of schema.tables) {
      w.add(t.name);
      for (const c of t.columns) { w.add(t.name + "." + c.name); w.add(c.name); }
    }
    for (const f of schema.functions) w.add(f + "(");
    for (const k of ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER BY", "GROUP BY", "LIMIT",
      "JOIN", "ON", "AS", "IS NULL", "IS NOT NULL", "BETWEEN", "IN", "DESC", "ASC"]) w.add(k);
    words = Array.from(w).sort();
  });

  function currentWord() {
    const upto = box.value.slice(0, box.selectionStart);
    const m = upto.match(/[A-Za-z_][A-Za-z0-9_.]*$/);
    return m ? m[0] : "";
  }

  function close() { list.hidden = true; shown = []; active = -1; box.setAttribute("aria-expanded", "false"); }

  function render() {
    list.innerHTML = "";
    shown.forEach((s, i) => {
      const li = document.createElement("li");
      li.textContent = s;
      li.id = "suggest-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.addEventListener("mousedown", (e) => { e.preventDefault(); take(s); });
      list.appendChild(li);
    });
    list.hidden = shown.length === 0;
    box.setAttribute("aria-expanded", shown.length ? "true" : "false");
    if (active >= 0) box.setAttribute("aria-activedescendant", "suggest-" + active);
  }

  function suggest() {
    const word = currentWord();
    if (word.length < 2) { close(); return; }
    const lw = word.toLowerCase();
    shown = words.filter((w) => w.toLowerCase().startsWith(lw) && w.toLowerCase() !== lw).slice(0, 12);
    active = shown.length ? 0 : -1;
    render();
  }

  function insert(text, replace) {
    const start = box.selectionStart - replace;
    box.setRangeText(text, start, box.selectionEnd, "end");
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function take(s) { insert(s, currentWord().length); close(); }

  box.addEventListener("input", suggest);
  box.addEventListener("blur", () => setTimeout(close, 150));
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault(); document.getElementById("run").click(); return;
    }
    if (list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); active = (active + 1) % shown.length; render(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); active = (active - 1 + shown.length) % shown.length; render(); }
    else if ((e.key === "Tab" || e.key === "Enter") && active >= 0) { e.preventDefault(); take(shown[active]); }
    else if (e.key === "Escape") { close(); }
  });

  document.querySelectorAll("[data-insert]").forEach((el) => {
    const go = (e) => { e.preventDefault(); insert(el.dataset.insert + (el.dataset.insert.endsWith("(") ? "" : " "), 0); };
    el.addEventListener("click", go);
    el.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") go(e); });
  });
})();

// Small progressive enhancements; every page works without them.
document.addEventListener("submit", (event) => {
  // The asking button's own confirmation first (a delete inside a larger form), else the form's.
  const message = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches("input[data-price]")) return;
  const boxes = document.querySelectorAll("input[data-price]:checked");
  let fen = 0;
  boxes.forEach((b) => { fen += Number(b.dataset.price); });
  const total = document.getElementById("running-total");
  if (total) total.textContent = "RMB " + (fen / 100).toFixed(2);
  const next = document.getElementById("next-step");
  if (next) next.disabled = boxes.length === 0;
});

// 所属地区: the city list shows the chosen province's cities; a typed region clears the pick.
function showProvinceCities(province) {
  const city = document.querySelector("[data-region-city]");
  if (!city) return;
  city.querySelectorAll("optgroup").forEach((group) => {
    const shown = !province.value || group.label === province.value;
    group.hidden = !shown;
    group.disabled = !shown;
  });
  const picked = city.selectedOptions[0];
  if (picked && picked.parentElement.tagName === "OPTGROUP" && picked.parentElement.disabled) {
    city.value = "";
  }
}
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("[data-region-province]")) showProvinceCities(target);
  if (target.matches("[data-region-city]") && target.value) {
    const province = document.querySelector("[data-region-province]");
    if (province) province.value = target.selectedOptions[0].parentElement.label;
    const typed = document.querySelector("[data-region-typed]");
    if (typed) typed.value = "";
  }
});
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-region-typed]")) return;
  document.querySelectorAll("[data-region-province], [data-region-city]").forEach((s) => { s.value = ""; });
  const province = document.querySelector("[data-region-province]");
  if (province) showProvinceCities(province);
});
document.addEventListener("DOMContentLoaded", () => {
  const province = document.querySelector("[data-region-province]");
  if (province) showProvinceCities(province);
});

// Phones stack table rows (app.css); each cell is labelled with its column's header.
function labelTableCells(table) {
  const rows = Array.from(table.rows);
  const head = rows.find((row) => row.querySelector(":scope > th"));
  if (!head) return;
  const labels = [];
  Array.from(head.cells).forEach((cell) => {
    for (let i = 0; i < (cell.colSpan || 1); i += 1) labels.push(cell.textContent.trim());
  });
  rows.forEach((row) => {
    if (row === head) return;
    let column = 0;
    Array.from(row.cells).forEach((cell) => {
      const label = labels[column];
      if (cell.colSpan === 1 && label && !cell.hasAttribute("data-label")) cell.dataset.label = label;
      column += cell.colSpan || 1;
    });
  });
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table").forEach(labelTableCells);
});

// A list scrolling inside its box shows its chosen entry, not only the top of the box.
document.querySelectorAll(".scroll-box").forEach((box) => {
  const chosen = box.querySelector("input:checked")?.closest("label") || box.querySelector(".chosen");
  if (chosen) box.scrollTop = chosen.offsetTop - 8;
});

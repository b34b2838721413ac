// Small progressive enhancements; every page works without them.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.dataset.confirm;
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

/* LeadPact pages: live countdowns of business time, charts, the goal form. No dependencies. */
"use strict";
(function () {
  const loaded = performance.now();

  function format(seconds) {
    const sign = seconds < 0 ? "-" : "";
    let left = Math.floor(Math.abs(seconds));
    const d = Math.floor(left / 86400); left -= d * 86400;
    const h = Math.floor(left / 3600); left -= h * 3600;
    const m = Math.floor(left / 60); const s = left - m * 60;
    const pad = (n) => String(n).padStart(2, "0");
    if (d) return `${sign}${d}d ${h}h`;
    if (h) return `${sign}${h}h ${pad(m)}m ${pad(s)}s`;
    if (m) return `${sign}${m}m ${pad(s)}s`;
    return `${sign}${s}s`;
  }

  /* Business time passes only while the calendar is open: `data-ticks` says for how many
     seconds after the page was made (the end of the open interval); then the clock stands
     still until the page is reloaded. */
  function tick() {
    const elapsed = (performance.now() - loaded) / 1000;
    document.querySelectorAll(".countdown[data-left]").forEach((el) => {
      if (el.dataset.left === "") return;
      const ticks = Number(el.dataset.ticks || 0);
      const left = Number(el.dataset.left) - Math.min(elapsed, ticks);
      el.textContent = format(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 1800);
    });
  }

  function embedCharts(specs) {
    if (typeof window.vegaEmbed !== "function") return;
    for (const [name, spec] of Object.entries(specs)) {
      const target = document.getElementById(`chart-${name}`);
      if (!target) continue;
      window.vegaEmbed(target, spec, { actions: false, renderer: "svg" }).catch((err) => {
        target.textContent = `This chart could not be drawn: ${err}`;
      });
    }
  }

  function autoSubmit(id) {
    const form = document.getElementById(id);
    if (!form) return;
    let timer = null;
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => form.requestSubmit(), 600);
    });
  }

  window.leadpact = { embedCharts, autoSubmit, format };
  tick();
  setInterval(tick, 1000);
})();

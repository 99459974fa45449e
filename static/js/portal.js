/*
 * Partner Portal page behaviour.
 *
 * The Content-Security-Policy allows scripts from this site only (script-src 'self', no inline script,
 * no eval) and styles from this site only (no style attributes), so templates never carry JavaScript:
 * they declare behaviour with data-* attributes and this file, loaded with `defer` by base.html, acts on
 * them. Every handler is delegated from `document`, so content that htmx swaps in works too.
 *
 *   <form data-confirm="Question?">          asks before the form submits (a submit button's own
 *   <button data-confirm="Question?">        data-confirm wins); cancelling stops the submission.
 *   <a data-confirm="Question?">             asks before following the link.
 *   <select data-submit-on-change>           submits its form when the value changes (also on a form:
 *                                            any field of it).
 *   <button data-copy-target="ID">           copies the value (or text) of the element with that id to
 *                                            the clipboard, selects it, and shows data-copied-label
 *                                            (default "Copied") as the button's text.
 *   <input data-select-on-click>             selects its whole text when clicked.
 *   <a data-with-query>                      follows its link with the page's current query string
 *                                            (a list's filters, which htmx keeps in the URL).
 *   <canvas data-chart="KIND"                draws a Chart.js chart of KIND (see CHARTS below) from the
 *           data-chart-data="ID"             JSON of the json_script element with that id, or of its
 *           data-chart-key="KEY">            member KEY. Charts are drawn on DOMContentLoaded and again
 *                                            after each htmx swap (htmx:afterSettle) for new canvases.
 *                                            Pages with charts load the vendored Chart.js themselves.
 */
(() => {
  "use strict";

  // --- Confirmations -------------------------------------------------------------------------------

  // Capture phase on document: runs before htmx's or any other listener on the form itself.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      const submitter = event.submitter;
      const message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  document.addEventListener(
    "click",
    (event) => {
      const link = event.target instanceof Element ? event.target.closest("a[data-confirm]") : null;
      if (link && !window.confirm(link.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  // --- Links that carry the page's filters ---------------------------------------------------------

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-with-query]") : null;
    if (link) link.search = window.location.search;
  });

  // --- Submit on change ----------------------------------------------------------------------------

  document.addEventListener("change", (event) => {
    const field = event.target;
    if (!(field instanceof Element)) return;
    const marked = field.closest("[data-submit-on-change]");
    if (!marked) return;
    const form = marked instanceof HTMLFormElement ? marked : marked.form || field.form;
    if (!form) return;
    // requestSubmit fires the submit event (validation, data-confirm, htmx) like a click would.
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  });

  // --- Copy to the clipboard -----------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const selectable = event.target.closest("[data-select-on-click]");
    if (selectable && typeof selectable.select === "function") selectable.select();

    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    event.preventDefault();
    const text = "value" in source ? source.value : source.textContent;
    if (typeof source.select === "function") source.select();
    // Without the Clipboard API (plain http) the text stays selected for the keyboard's copy.
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
    button.textContent = button.dataset.copiedLabel || "Copied";
  });

  // --- Charts --------------------------------------------------------------------------------------

  const BASE = { responsive: true, maintainAspectRatio: false, animation: false };

  const numbers = (datasets, extra) =>
    datasets.forEach((set) => {
      set.data = set.data.map(Number);
      Object.assign(set, extra || {});
    });

  // Each builder turns the page's JSON into a Chart.js configuration.
  const CHARTS = {
    // Earnings by month, stacked by lever (earnings/_earnings_results.html).
    earnings(data) {
      numbers(data.datasets);
      return {
        type: "bar",
        data,
        options: {
          ...BASE,
          scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "USD" } } },
        },
      };
    },
    // Claims created (right axis) and approved payouts in USD (left axis) by month (incentives/index.html).
    incentives(data) {
      numbers(data.datasets);
      return {
        data,
        options: {
          ...BASE,
          scales: {
            y: { position: "left", title: { display: true, text: "USD" }, beginAtZero: true },
            claims: {
              position: "right",
              title: { display: true, text: "Claims" },
              beginAtZero: true,
              ticks: { precision: 0 },
              grid: { drawOnChartArea: false },
            },
          },
        },
      };
    },
    // A designation's score by day with the qualifying threshold (membership/_designation_history.html).
    designation(data) {
      const threshold = data.threshold;
      numbers(data.datasets, { type: "line", stepped: true });
      data.datasets.push({
        type: "line",
        label: "Qualifies at " + threshold,
        data: data.labels.map(() => threshold),
        borderDash: [6, 4],
        pointRadius: 0,
      });
      return {
        type: "line",
        data: { labels: data.labels, datasets: data.datasets },
        options: { ...BASE, scales: { y: { min: 0, max: 100, title: { display: true, text: "Score" } } } },
      };
    },
    // The security score by day (security/index.html).
    "security-score"(data) {
      numbers(data.datasets, { type: "line", stepped: true });
      return {
        type: "line",
        data,
        options: { ...BASE, scales: { y: { min: 0, max: 100, title: { display: true, text: "Score" } } } },
      };
    },
    // Co-sell deals per creation month, stacked by status and substatus (cosell/insights.html).
    "cosell-pipeline"(data) {
      return {
        type: "bar",
        data,
        options: {
          ...BASE,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        },
      };
    },
    // Co-sell win rate per creation month (cosell/insights.html).
    "cosell-win-rate"(data) {
      return {
        type: "line",
        data,
        options: {
          ...BASE,
          spanGaps: true,
          elements: { point: { radius: 4 } },
          scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } },
        },
      };
    },
  };

  function drawCharts() {
    const Chart = window.Chart;
    if (!Chart) return;
    // Charts whose canvas an htmx swap removed: free them.
    Object.values(Chart.instances || {}).forEach((chart) => {
      if (chart.canvas && !chart.canvas.isConnected) chart.destroy();
    });
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (Chart.getChart(canvas)) return; // Already drawn; a swap brings a new canvas with new data.
      const build = CHARTS[canvas.dataset.chart];
      const source = document.getElementById(canvas.dataset.chartData || "");
      if (!build || !source) return;
      let data = JSON.parse(source.textContent);
      if (canvas.dataset.chartKey) data = data[canvas.dataset.chartKey];
      if (!data) return;
      new Chart(canvas, build(data));
    });
  }

  document.addEventListener("DOMContentLoaded", drawCharts);
  document.addEventListener("htmx:afterSettle", drawCharts);
})();

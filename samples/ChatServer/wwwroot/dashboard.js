// The dashboard: polls /api/isolation (built from IsolationMonitor and the Isolation meter) once a second.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  // A duration in milliseconds, in the unit that keeps it short; "n/a" when there is nothing to measure yet.
  function duration(ms) {
    if (ms === null || ms === undefined) return "n/a";
    if (ms < 1) return (ms * 1000).toFixed(1) + " µs";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }

  function table(id, values) {
    const rows = Object.entries(values || {});
    const el = $(id);
    el.replaceChildren();
    if (rows.length === 0) { const tr = el.insertRow(); tr.insertCell().textContent = "none"; return; }
    for (const [key, value] of rows) {
      const tr = el.insertRow();
      tr.dataset.key = key;
      tr.insertCell().textContent = key;
      const cell = tr.insertCell();
      cell.textContent = value;
      if (value > 0 && (id === "violation-kinds" || id === "leak-kinds")) cell.className = "bad";
    }
  }

  function render(s) {
    const score = $("score");
    score.textContent = s.score.toFixed(4);
    score.className = "value " + (s.score >= 1 ? "ok" : "bad");
    score.dataset.score = String(s.score);
    const leaks = Object.values(s.leaks).reduce((a, b) => a + b, 0);
    $("violations").textContent = Object.values(s.violations).reduce((a, b) => a + b, 0);
    $("violations").className = "value " + ($("violations").textContent === "0" ? "ok" : "bad");
    $("leaks").textContent = leaks;
    $("leaks").className = "value " + (leaks === 0 ? "ok" : "bad");
    $("active-scopes").textContent = s.activeScopes;
    $("active-sessions").textContent = s.activeSessions;
    $("connections").textContent = s.connections;
    $("creation").textContent = duration(s.agentCreationP50Ms) + " / " + duration(s.agentCreationP95Ms);
    $("rollout").textContent = s.enforcePercent + " / " + s.observePercent;
    table("runs", s.runs);
    table("violation-kinds", s.violations);
    table("leak-kinds", s.leaks);
    table("dropped", s.eventsDropped);
    const recent = $("recent");
    recent.replaceChildren();
    if (s.recentViolations.length === 0) { recent.insertRow().insertCell().textContent = "none"; }
    for (const v of s.recentViolations) {
      const tr = recent.insertRow();
      tr.className = "violation";
      tr.insertCell().textContent = new Date(v.at).toLocaleTimeString();
      tr.insertCell().textContent = v.kind;
      tr.insertCell().textContent = v.resourceType;
      tr.insertCell().textContent = v.message;
    }
    $("updated").textContent = "updated " + new Date(s.at).toLocaleTimeString() + " · " + s.finishedScopes + " scopes finished";
  }

  async function poll() {
    try {
      const response = await fetch("/api/isolation", { cache: "no-store" });
      if (response.ok) render(await response.json());
      else $("updated").textContent = "the server answered " + response.status;
    } catch (e) {
      $("updated").textContent = "cannot reach the server: " + e;
    }
    setTimeout(poll, 1000);
  }

  poll();
})();

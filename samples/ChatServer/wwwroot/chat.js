// The chat page: sign in (demo token), open the WebSocket, send messages, show every event of your runs.
"use strict";
(() => {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const text = document.getElementById("text");
  const sendButton = document.getElementById("send-button");
  let socket = null;
  let counter = 0;
  // Runs sent and not ended yet: each shows a waiting line (with the seconds waited) until its terminal event.
  const pending = new Map();
  const terminal = new Set(["agent_completed", "agent_failed", "agent_timeout", "agent_rejected"]);

  function wait(runId) {
    const div = document.createElement("div");
    div.className = "waiting";
    div.dataset.runId = runId;
    const started = Date.now();
    const update = () => { div.textContent = "waiting for " + runId.slice(0, 12) + " … " + Math.floor((Date.now() - started) / 1000) + " s"; };
    update();
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    pending.set(runId, { div, seen: false, timer: setInterval(update, 1000) });
  }

  function ended(runId) {
    const run = pending.get(runId);
    if (!run) return;
    clearInterval(run.timer);
    run.div.remove();
    pending.delete(runId);
  }

  // Appends a line; a run's waiting line stays last, below the run's latest event.
  function line(css, content, runId) {
    const div = document.createElement("div");
    div.className = css;
    div.textContent = content;
    if (runId != null) div.dataset.runId = runId;
    const waiting = runId != null && pending.get(runId);
    if (waiting) log.insertBefore(div, waiting.div); else log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function describe(event) {
    const p = event.payload || {};
    switch (event.type) {
      case "agent_started": return "started";
      case "agent_thinking": return "thinking (" + p.step + ")";
      case "tool_executing": return "calling " + p.tool + " " + JSON.stringify(p.arguments || {});
      case "tool_completed": return p.tool + " → " + p.result;
      case "agent_completed": return "completed in " + Math.round(p.durationMs) + " ms";
      case "agent_failed": case "agent_timeout": case "agent_rejected": return event.type + ": " + (p.message || p.status);
      case "protocol_error": return "server refused the message: " + p.message;
      default: return event.type;
    }
  }

  async function connect() {
    const user = document.getElementById("user").value.trim();
    const login = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId: user }) });
    if (!login.ok) {
      // The server answers a ProblemDetails: its detail says what was wrong with the name.
      const problem = await login.json().catch(() => ({}));
      line("msg-error", "sign-in failed: " + (problem.detail || problem.title || login.status));
      return;
    }
    const { token } = await login.json();
    const history = await fetch("/api/history", { headers: { Authorization: "Bearer " + token } });
    if (history.ok) {
      for (const item of await history.json()) line(item.role === "user" ? "msg-user" : "msg-answer", (item.role === "user" ? "you: " : "assistant: ") + item.text);
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/ws?access_token=" + encodeURIComponent(token));
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "ready") { status.textContent = "connected as " + event.userId + " (" + event.payload.connectionId + ")"; return; }
      // Every event of a run is numbered with its sequence, the answer too: the numbers of a run have no gaps.
      const tag = event.runId ? "  [" + event.runId.slice(0, 12) + " #" + event.sequence + "] " : "  ";
      if (event.type === "answer") {
        line("msg-answer", tag + "assistant: " + event.payload.text, event.runId);
      } else {
        line(event.type === "protocol_error" || event.type === "agent_failed" || event.type === "agent_timeout" ? "msg-error" : "msg-event",
          tag + describe(event), event.runId);
      }
      if (pending.has(event.runId)) pending.get(event.runId).seen = true;
      if (terminal.has(event.type)) ended(event.runId);
      if (event.type === "protocol_error") {
        // The server refused a message before it started a run: that is the latest one it has not answered yet.
        const unanswered = [...pending.entries()].filter(([, run]) => !run.seen).map(([id]) => id);
        if (unanswered.length > 0) ended(unanswered[unanswered.length - 1]);
      }
    };
    socket.onclose = () => {
      status.textContent = "disconnected";
      text.disabled = true;
      sendButton.disabled = true;
      for (const runId of [...pending.keys()]) ended(runId);
    };
    socket.onopen = () => { text.disabled = false; sendButton.disabled = false; text.focus(); };
  }

  document.getElementById("connect").addEventListener("click", () => connect().catch((e) => line("msg-error", String(e))));
  document.getElementById("send").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!socket || socket.readyState !== WebSocket.OPEN || !text.value.trim()) return;
    const runId = "web-" + Date.now().toString(36) + "-" + (++counter);
    socket.send(JSON.stringify({ type: "chat", runId, text: text.value }));
    line("msg-user", "you: " + text.value);
    wait(runId);
    text.value = "";
  });
})();

// The chat page: sign in (demo token), open the WebSocket, send messages, show every event of your runs.
"use strict";
(() => {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const text = document.getElementById("text");
  const sendButton = document.getElementById("send-button");
  let socket = null;
  let counter = 0;

  function line(css, content) {
    const div = document.createElement("div");
    div.className = css;
    div.textContent = content;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function describe(event) {
    const p = event.payload || {};
    switch (event.type) {
      case "agent_started": return "started";
      case "agent_thinking": return "thinking (" + p.step + ")";
      case "tool_executing": return "calling " + p.tool + " (" + p.callId + ")";
      case "tool_completed": return p.tool + " done (" + p.callId + ")";
      case "agent_completed": return "completed in " + Math.round(p.durationMs) + " ms";
      case "agent_failed": case "agent_timeout": case "agent_rejected": return event.type + ": " + (p.message || p.status);
      case "protocol_error": return "server refused the message: " + p.message;
      default: return event.type;
    }
  }

  async function connect() {
    const user = document.getElementById("user").value.trim();
    const login = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId: user }) });
    if (!login.ok) { line("msg-error", "sign-in failed: " + (await login.text())); return; }
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
      if (event.type === "answer") { line("msg-answer", "assistant: " + event.payload.text); return; }
      line(event.type === "protocol_error" || event.type === "agent_failed" || event.type === "agent_timeout" ? "msg-error" : "msg-event",
        "  [" + event.runId.slice(0, 12) + " #" + event.sequence + "] " + describe(event));
    };
    socket.onclose = () => { status.textContent = "disconnected"; text.disabled = true; sendButton.disabled = true; };
    socket.onopen = () => { text.disabled = false; sendButton.disabled = false; text.focus(); };
  }

  document.getElementById("connect").addEventListener("click", () => connect().catch((e) => line("msg-error", String(e))));
  document.getElementById("send").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!socket || socket.readyState !== WebSocket.OPEN || !text.value.trim()) return;
    const runId = "web-" + Date.now().toString(36) + "-" + (++counter);
    socket.send(JSON.stringify({ type: "chat", runId, text: text.value }));
    line("msg-user", "you: " + text.value);
    text.value = "";
  });
})();

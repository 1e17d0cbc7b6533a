// The demo page's script: it talks to every kind of route through
// Gatehouse and shows what came back, so a browser can verify the demo.
"use strict";

function show(id, text, ok) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.className = ok ? "ok" : "err";
}

async function callAPI() {
  try {
    const res = await fetch("/api/hello", { headers: { Accept: "application/json" } });
    const body = await res.json();
    show("api", `${res.status} from ${body.instance}: ${body.message}`, res.ok);
  } catch (e) {
    show("api", "failed: " + e, false);
  }
}

function openSocket() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.onopen = () => ws.send("ping through gatehouse");
  ws.onmessage = (ev) => { show("ws", "echo: " + ev.data, true); ws.close(); };
  ws.onerror = () => show("ws", "websocket failed", false);
}

function listenEvents() {
  const es = new EventSource("/api/events?n=3");
  let got = 0;
  es.onmessage = (ev) => {
    got++;
    show("sse", `event ${got}: ${ev.data}`, true);
    if (got >= 3) es.close();
  };
  es.onerror = () => { if (got < 3) show("sse", "event stream failed", false); es.close(); };
}

callAPI();
openSocket();
listenEvents();

// The Node.js example: the same endpoint as hello-python, with Node's standard library only.
"use strict";
const http = require("http");

const MESSAGE = "Hello from your secure Luna Lamp application!";
const port = Number(process.env.PORT || 8080);

const server = http.createServer((req, res) => {
  const path = req.url.split("?")[0];
  let status = 200;
  let body;
  if (path === "/api/hello") body = { message: MESSAGE };
  else if (path === "/") body = { service: "hello-node", try: "/api/hello" };
  else { status = 404; body = { error: "not found", path: req.url }; }
  const data = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
  console.log(`${req.method} ${req.url}`);
});

server.listen(port, "127.0.0.1", () => console.log(`hello-node listening on 127.0.0.1:${port}`));

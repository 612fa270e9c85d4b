// The build step of the node test app: writes dist/. When probe.json exists (the tests write it),
// it first tries to reach {host, port} and fails the build if it can: a hermetic build phase
// must not have a network.
const fs = require("fs");
const net = require("net");

function emit() {
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/server.js", "require('http').createServer((q, s) => s.end('hi')).listen(8080);\n");
  fs.writeFileSync("dist/build-info.txt", `built at ${process.env.SOURCE_DATE_EPOCH}\n`);
}

if (fs.existsSync("probe.json")) {
  const probe = JSON.parse(fs.readFileSync("probe.json", "utf8"));
  const socket = net.connect(probe.port, probe.host);
  socket.setTimeout(5000);
  socket.on("connect", () => { console.log("NETWORK REACHED"); process.exit(0); });
  socket.on("error", (e) => { console.error("network unreachable: " + e.code); process.exit(3); });
  socket.on("timeout", () => { console.error("network timeout"); process.exit(3); });
} else {
  emit();
}

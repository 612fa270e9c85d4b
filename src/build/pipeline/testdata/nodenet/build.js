// A build script that tries the network: it connects to the host and port in probe.json (the
// test writes it, pointing at a server on the host's 127.0.0.1). A hermetic build phase has no
// network, so the connection must fail, and so must the build.
const fs = require("fs");
const net = require("net");
const probe = JSON.parse(fs.readFileSync("probe.json", "utf8"));
const socket = net.connect(probe.port, probe.host);
socket.setTimeout(5000);
socket.on("connect", () => {
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/fetched.txt", "reached the network\n");
  socket.end();
});
socket.on("error", (e) => { console.error("network unreachable: " + e.code); process.exit(3); });
socket.on("timeout", () => { console.error("network timeout"); process.exit(3); });

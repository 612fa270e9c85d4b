// A deliberately non-reproducible build: dist/random.txt gets a fresh Math.random() each time
// after a fixed 7-byte prefix (so the first differing byte is at offset 7, or a little later
// when two draws share leading digits), and dist/stable.txt is the same every time.
const fs = require("fs");
fs.mkdirSync("dist", { recursive: true });
fs.writeFileSync("dist/stable.txt", "the same every time\n");
fs.writeFileSync("dist/random.txt", "random=" + Math.random().toFixed(15).slice(2) + "\n");

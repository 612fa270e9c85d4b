"""The pipeline tests' Python app: a stdlib-only HTTP server (no fetch phase needed)."""
from http.server import BaseHTTPRequestHandler, HTTPServer

from hello import greeting


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = greeting("lunal").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()

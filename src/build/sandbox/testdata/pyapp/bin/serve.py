#!/usr/bin/env python3
"""Entry script: serves one greeting over HTTP (not run by the tests)."""
import http.server

from greeter import greet


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = greet("world").encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    http.server.HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()

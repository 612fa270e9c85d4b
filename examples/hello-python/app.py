"""The example app `make demo` deploys: Python's standard library only.

GET /api/hello answers {"message": "Hello from your secure Luna Lamp application!"} (the seed's
own example, section 3 "Deployment Confirmation"). The platform passes the port in $PORT.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MESSAGE = "Hello from your secure Luna Lamp application!"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/api/hello":
            self._send(200, {"message": MESSAGE})
        elif self.path == "/":
            self._send(200, {"service": "hello-python", "try": "/api/hello"})
        else:
            self._send(404, {"error": "not found", "path": self.path})

    def log_message(self, fmt, *args):
        # One line per request on stdout: the platform captures it as the instance's log.
        sys.stdout.write("%s %s\n" % (self.command, self.path))
        sys.stdout.flush()


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("hello-python listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

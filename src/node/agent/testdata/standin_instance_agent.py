#!/usr/bin/python3
"""A stand-in for lunald-instance in the node agent's tests (node_test.cc).

It speaks the node's side of docs/protocols/instance-agent.md exactly as device.h states it (one
JSON request and a newline per connection on the device socket), so the node agent's sandbox,
device server, ready handling and supervision are tested on their own; the real instance agent
is tested against the same node in node_test.cc when it is built. What it does:
  1. prints what it sees of the sandbox (for the test to assert on);
  2. extends RTMR3 with lunal.build-hash and lunal.instance-id events (event_log_lunal.h's
     encoding: "LUNL", a little-endian uint32 size, the canonical JSON {"type","value"});
  3. asks for a quote whose REPORT_DATA is SHA-512(nonce) (no key: it is not a real instance);
  4. starts spec.command in spec.app_dir with spec.env, waits for spec.app_port, reports ready;
     in front of the app, plain TCP forwarding on the listening socket the node passed in
     (spec.listen_fd, the host's 127.0.0.1:listen_port: the sandbox has its own network
     namespace), where the real agent serves mesh TLS;
  5. on SIGTERM stops the app and exits 0; when the app exits on its own, exits 3.
With HOST_PROBE_PORT in spec.env it also prints whether 127.0.0.1:HOST_PROBE_PORT (a port of the
host's loopback) is reachable from inside.
"""
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

NONCE = "stand-in-nonce"


def call(device, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(device)
        s.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data)
    if not reply.get("ok"):
        raise RuntimeError("%s: %s" % (reply.get("reason"), reply.get("message")))
    return reply


def lunal_event(kind, value):
    data = json.dumps({"type": kind, "value": value}, sort_keys=True,
                      separators=(",", ":")).encode()
    return b"LUNL" + len(data).to_bytes(4, "little") + data


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def forward(listener, app_port):
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", app_port), timeout=5)
        except OSError:
            client.close()
            continue
        upstream.settimeout(None)
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def can_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "yes"
    except OSError:
        return "no"


def main():
    spec_path = sys.argv[sys.argv.index("--spec") + 1]
    with open(spec_path) as f:
        spec = json.load(f)
    device = spec["device"]
    print("sandbox: work=%s root_ssh=%s app_writable=%s tmp_writable=%s hostname=%s" % (
        os.path.exists("/work"), os.path.exists("/root/.ssh"), can_write("/app/probe"),
        can_write("/tmp/probe"), socket.gethostname()), flush=True)
    probe = spec["env"].get("HOST_PROBE_PORT")
    if probe:
        try:
            socket.create_connection(("127.0.0.1", int(probe)), timeout=1).close()
            reachable = True
        except OSError:
            reachable = False
        print("network: host_port_reachable=%s" % reachable, flush=True)
    # The device refuses boot registers: the test reads this line.
    try:
        call(device, {"op": "extend", "rtmr": 0,
                      "event": base64.b64encode(lunal_event("lunal.build-hash",
                                                            spec["build_hash"])).decode()})
        print("device: rtmr0 extend accepted", flush=True)
    except RuntimeError as e:
        print("device: rtmr0 extend refused: %s" % e, flush=True)
    for kind, value in (("lunal.build-hash", spec["build_hash"]),
                        ("lunal.instance-id", spec["instance_id"])):
        event = lunal_event(kind, value)
        call(device, {"op": "extend", "rtmr": 3, "event": base64.b64encode(event).decode()})
    report_data = hashlib.sha512(NONCE.encode()).hexdigest()
    evidence = call(device, {"op": "quote", "report_data": report_data})["evidence"]

    app = subprocess.Popen(spec["command"], cwd=spec["app_dir"], env=spec["env"])
    for _ in range(400):
        if app.poll() is not None:
            call(device, {"op": "failed", "reason": "instance.app_exited",
                          "message": "the app exited with %d" % app.returncode})
            sys.exit(1)
        try:
            socket.create_connection(("127.0.0.1", spec["app_port"]), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    stopping = []

    def stop(*_):
        # Only a flag and a signal here: the main thread is inside app.wait(), which holds the
        # Popen's wait lock.
        stopping.append(True)
        app.terminate()

    signal.signal(signal.SIGTERM, stop)
    if spec.get("listen_fd", -1) >= 0:
        listener = socket.socket(fileno=spec["listen_fd"])
        threading.Thread(target=forward, args=(listener, spec["app_port"]), daemon=True).start()
    call(device, {"op": "ready", "address": "127.0.0.1:%d" % spec["listen_port"],
                  "nonce": NONCE, "certificate_pem": "stand-in", "evidence": evidence})
    app.wait()
    if stopping:
        print("stand-in agent: stopped", flush=True)
        sys.exit(0)
    sys.exit(3)


if __name__ == "__main__":
    main()

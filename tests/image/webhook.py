"""The webhook receiver of the image tests: answers every POST /jobs/<queue> with 200 and a JSON
return value naming the job, and prints one line per job (flushed), so the test sees what the
runner in the container sent. Usage: python3 webhook.py HOST PORT"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        job = json.loads(body or b"{}")
        answer = json.dumps({"handled": job.get("id"), "path": self.path}).encode()
        print(f"webhook {self.path} job {job.get('id')} {job.get('name')}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    print(f"webhook listening on {sys.argv[1]}:{sys.argv[2]}", flush=True)
    server.serve_forever()

#!/usr/bin/env python3
"""An observation set with N port observations (about N findings) for scripts/bench-render:
the demo's "after" set plus DCs dc-bench-K with the DC ports, every 7th filtered."""
import json, sys, pathlib

n = int(sys.argv[1])
root = pathlib.Path(__file__).resolve().parent.parent
base = json.loads((root / "fixtures/demo/after.json").read_text())
ports = [53, 88, 135, 389, 445, 464, 636, 3268, 3269, 9389]
obs = base["observations"]
for i in range(n):
    host, port = f"dc-bench-{i // len(ports)}.corp.contoso.test", ports[i % len(ports)]
    filtered = i % 7 == 0
    obs.append({
        "probe": "tcp.connect",
        "subject": f"{host}:{port}",
        "status": "observed",
        "fields": {
            "host": host, "port": port, "roles": ["dc"],
            "address": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:{port}",
            "state": "filtered" if filtered else "open",
            "reason": "no answer within 3s" if filtered else "connected",
            "vantage": "admin-ws01",
        },
    })
json.dump(base, sys.stdout)

"""Prints this ECS task's private IPv4 addresses, comma-separated (nothing outside ECS).

The load balancer's health checks name the task by its address (``Host: 10.0.1.23:8000``)
and Django answers only the host names in ALLOWED_HOSTS, so the entrypoint adds these
addresses for the web server. They come from the task metadata endpoint v4, which ECS
passes in ECS_CONTAINER_METADATA_URI_V4 (Fargate, awsvpc: one address per task).
"""

import ipaddress
import json
import os
import sys
import urllib.error
import urllib.request


def task_addresses(metadata: object) -> list[str]:
    addresses: list[str] = []
    networks = metadata.get("Networks", []) if isinstance(metadata, dict) else []
    for network in networks if isinstance(networks, list) else []:
        for address in network.get("IPv4Addresses", []) if isinstance(network, dict) else []:
            addresses.append(str(ipaddress.IPv4Address(address)))
    return addresses


def main() -> int:
    endpoint = os.environ.get("ECS_CONTAINER_METADATA_URI_V4", "")
    if not endpoint.startswith("http://"):
        return 0
    try:
        with urllib.request.urlopen(endpoint, timeout=2) as response:  # noqa: S310 - ECS's http endpoint
            addresses = task_addresses(json.load(response))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"container-task-ip: no task address from the ECS metadata endpoint: {exc}", file=sys.stderr)
        return 0
    print(",".join(addresses))
    return 0


if __name__ == "__main__":
    sys.exit(main())

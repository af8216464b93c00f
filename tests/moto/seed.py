#!/usr/bin/env python3
"""Seed a moto_server with one EKS cluster, its node groups and CloudWatch log events.

Usage: seed.py ENDPOINT SPEC.json

The spec (written by tests/integration/aws_moto.rs):

    {
      "region": "eu-west-1",
      "cluster": {
        "name": "prod-eu",
        "roleArn": "arn:aws:iam::123456789012:role/prod-eu-cluster-role",   (optional)
        "version": "1.31",                                                  (optional)
        "resourcesVpcConfig": {"subnetIds": [...], "endpointPublicAccess": true, ...},
        "logging": ["api", "audit", "authenticator"]       (the types enabled; the rest off)
      },
      "nodegroups": [
        {"name": "ng-general", "nodeRole": "arn:...", "subnets": [...],
         "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2}, "amiType": "AL2023_x86_64_STANDARD"}
      ],
      "logs": [
        {"group": "/aws/eks/prod-eu/cluster", "stream": "authenticator-...",
         "events": [{"minutes_ago": 12, "message": "..."}]}
      ]
    }

Static credentials `testing`/`testing`, as moto accepts any. Exits non-zero, naming the
call that failed, on any error.
"""

import json
import sys
import time

import boto3

ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def client(service, endpoint, region):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def seed(endpoint, spec):
    region = spec.get("region", "eu-west-1")
    eks = client("eks", endpoint, region)
    logs = client("logs", endpoint, region)

    cluster = spec["cluster"]
    name = cluster["name"]
    enabled = cluster.get("logging", [])
    disabled = [t for t in ALL_LOG_TYPES if t not in enabled]
    cluster_logging = []
    if enabled:
        cluster_logging.append({"types": enabled, "enabled": True})
    if disabled:
        cluster_logging.append({"types": disabled, "enabled": False})
    eks.create_cluster(
        name=name,
        version=cluster.get("version", "1.31"),
        roleArn=cluster.get(
            "roleArn", "arn:aws:iam::123456789012:role/%s-cluster-role" % name
        ),
        resourcesVpcConfig=cluster["resourcesVpcConfig"],
        logging={"clusterLogging": cluster_logging},
    )

    for ng in spec.get("nodegroups", []):
        eks.create_nodegroup(
            clusterName=name,
            nodegroupName=ng["name"],
            nodeRole=ng["nodeRole"],
            subnets=ng["subnets"],
            scalingConfig=ng["scalingConfig"],
            amiType=ng.get("amiType", "AL2023_x86_64_STANDARD"),
            instanceTypes=ng.get("instanceTypes", ["m6i.large"]),
        )

    now_ms = int(time.time() * 1000)
    for stream in spec.get("logs", []):
        group = stream["group"]
        existing = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if not any(g["logGroupName"] == group for g in existing):
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream["stream"])
        events = [
            {
                "timestamp": now_ms - int(e["minutes_ago"] * 60_000),
                "message": e["message"],
            }
            for e in stream["events"]
        ]
        # PutLogEvents wants the batch in chronological order.
        events.sort(key=lambda e: e["timestamp"])
        if events:
            logs.put_log_events(
                logGroupName=group, logStreamName=stream["stream"], logEvents=events
            )


def main(argv):
    if len(argv) != 3:
        print("usage: seed.py ENDPOINT SPEC.json", file=sys.stderr)
        return 2
    endpoint, spec_path = argv[1], argv[2]
    try:
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
        seed(endpoint, spec)
    except Exception as e:  # noqa: BLE001 - any failure is the test's to report
        print("seed.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

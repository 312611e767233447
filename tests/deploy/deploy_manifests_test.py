#!/usr/bin/env python3
"""The deploy/ manifests agree with the binaries they run (no Kubernetes needed).

  deploy_manifests_test.py SOURCE_DIR BUILD_DIR

Checks, per manifest under deploy/k8s and deploy/*.yaml:
  - every YAML document parses;
  - every --flag in an mtrk container's args is one the binary's --help names (a renamed flag
    would otherwise surface only as a CrashLoopBackOff at a customer);
  - mtrk containers run as non-root with a read-only root filesystem and no privilege escalation;
  - every agent configuration (deploy/agent.example.yaml, ConfigMaps' agent.yaml) passes
    `mtrk-agent --check-config`;
  - the example overlay's JSON patches, which address args by index, hit the flags they mean.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

SOURCE, BUILD = sys.argv[1], sys.argv[2]
BINARIES = {
    "mtrk-collector": os.path.join(BUILD, "collector/mtrk-collector"),
    "mtrk-gateway": os.path.join(BUILD, "mtqp-gateway/mtrk-gateway"),
    "mtrk-agent": os.path.join(BUILD, "agent/mtrk-agent"),
}
failures = []


def fail(where, why):
    failures.append(f"{where}: {why}")


def help_flags(binary):
    out = subprocess.run([BINARIES[binary], "--help"], capture_output=True, text=True)
    return set(re.findall(r"--[a-z][a-z0-9-]*", out.stdout + out.stderr))


def documents(path):
    with open(path) as f:
        try:
            return [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            fail(path, f"does not parse: {e}")
            return []


def pod_spec(doc):
    spec = doc.get("spec", {})
    return spec.get("template", {}).get("spec") if "template" in spec else None


def check_container(where, pod, container, known):
    image = container.get("image", "")
    binary = next((b for b in BINARIES if image.startswith(b + ":")), None)
    if binary is None:
        return
    for arg in container.get("args", []):
        flag = arg.split("=", 1)[0]
        if flag.startswith("--") and flag not in known[binary]:
            fail(where, f"{binary} has no flag {flag}")
    pod_sc = pod.get("securityContext", {})
    sc = container.get("securityContext", {})
    if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
        fail(where, f"{container['name']} may run as root")
    if not sc.get("readOnlyRootFilesystem"):
        fail(where, f"{container['name']} has a writable root filesystem")
    if sc.get("allowPrivilegeEscalation", True):
        fail(where, f"{container['name']} allows privilege escalation")


def check_agent_config(where, text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([BINARIES["mtrk-agent"], "--check-config", "--config", f.name],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(where, f"agent config rejected: {r.stdout}{r.stderr}".strip())
    finally:
        os.unlink(f.name)


def check_overlay_patches(path, base_docs):
    """JSON patches that replace args/N must replace a flag with the same flag."""
    for doc in documents(path):
        for p in doc.get("patches", []):
            target = p.get("target", {})
            for op in yaml.safe_load(p.get("patch", "[]")) or []:
                m = re.fullmatch(r"/spec/template/spec/containers/(\d+)/args/(\d+)", op["path"])
                if not m:
                    continue
                base = next((d for d in base_docs if d.get("kind") == target.get("kind") and
                             d["metadata"]["name"] == target.get("name")), None)
                if base is None:
                    fail(path, f"patch target {target} not in base")
                    continue
                args = pod_spec(base)["containers"][int(m.group(1))]["args"]
                index = int(m.group(2))
                old = args[index].split("=", 1)[0] if index < len(args) else None
                new = op["value"].split("=", 1)[0]
                if old != new:
                    fail(path, f"{op['path']} replaces {old} with {new}")


def main():
    known = {b: help_flags(b) for b in BINARIES}
    manifests = sorted(glob.glob(os.path.join(SOURCE, "deploy/k8s/**/*.yaml"), recursive=True))
    base_docs = []
    checked_containers = 0
    for path in manifests:
        docs = documents(path)
        if "/base/" in path:
            base_docs.extend(docs)
        for i, doc in enumerate(docs):
            where = f"{os.path.relpath(path, SOURCE)}#{i}"
            pod = pod_spec(doc) if isinstance(doc.get("spec"), dict) else None
            if pod:
                for c in pod.get("containers", []):
                    check_container(where, pod, c, known)
                    checked_containers += 1
            if doc.get("kind") == "ConfigMap":
                for key, text in doc.get("data", {}).items():
                    if key == "agent.yaml":
                        check_agent_config(where, text)
    for path in manifests:
        if os.path.basename(path) == "kustomization.yaml" and "/overlays/" in path:
            check_overlay_patches(path, base_docs)
    with open(os.path.join(SOURCE, "deploy/agent.example.yaml")) as f:
        check_agent_config("deploy/agent.example.yaml", f.read())
    if checked_containers == 0:
        fail("deploy/k8s", "no containers found")
    for f in failures:
        print("FAIL", f)
    print(f"{len(manifests)} manifests, {checked_containers} containers, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

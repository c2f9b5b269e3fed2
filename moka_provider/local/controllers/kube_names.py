"""The names Kubernetes itself gives the objects an operator has it create, played locally.

`moka local` runs a bare API server (no controller manager), so the local controllers create the
pods that a Deployment's ReplicaSet or a Job would, under the names those would get:

- ``generated_name``: a ``metadata.generateName`` completed by the API server (k8s.io/apiserver
  ``pkg/storage/names`` ``simpleNameGenerator.GenerateName``: the prefix cut to 58 characters, then
  5 characters of k8s.io/apimachinery ``pkg/util/rand`` ``String``);
- ``pod_template_hash``: a ReplicaSet's ``pod-template-hash`` (k8s.io/kubernetes
  ``pkg/controller/controller_utils.go`` ``ComputeHash``: FNV-32a, its decimal digits written
  with ``rand.SafeEncodeString``), here over a seed rather than the pod template.
"""

from __future__ import annotations

import secrets

#: k8s.io/apimachinery pkg/util/rand ``alphanums``: no vowels, no look-alike digits.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
#: k8s.io/apiserver pkg/storage/names: 63 minus the 5 random characters.
MAX_GENERATED_PREFIX = 58


def random_string(length: int = 5) -> str:
    """k8s.io/apimachinery ``rand.String``: what KubeRay's generated names and the API server use."""
    return "".join(secrets.choice(ALPHANUMS) for _ in range(length))


def generated_name(prefix: str) -> str:
    """The name the API server gives an object created with ``generateName: prefix``."""
    return prefix[:MAX_GENERATED_PREFIX] + random_string()


def _safe_encode(text: str) -> str:
    """k8s.io/apimachinery ``rand.SafeEncodeString``."""
    return "".join(ALPHANUMS[ord(char) % len(ALPHANUMS)] for char in text)


def pod_template_hash(seed: str) -> str:
    """A ``pod-template-hash`` value: FNV-32a of ``seed``, safely encoded as the Deployment controller does."""
    value = 0x811C9DC5
    for byte in seed.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return _safe_encode(str(value))


def replica_set_pod_name(deployment: str, template_hash: str) -> str:
    """A pod of a Deployment's ReplicaSet: ``<deployment>-<pod-template-hash>-<5 random>``
    (k8s.io/kubernetes ``pkg/controller/deployment/sync.go`` ``getNewReplicaSet`` names the
    ReplicaSet, whose pods get it as ``generateName``)."""
    return generated_name(f"{deployment}-{template_hash}-")

"""Static checks of terraform/*.tf, parsed with python-hcl2 (no AWS account, no provider download)."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

TF_DIR = Path(__file__).resolve().parents[2] / "terraform"
TF_FILES = sorted(TF_DIR.glob("*.tf"))


def _unquote(value):
    """python-hcl2 >= 5 keeps the quotes of string literals and block labels; older versions do not."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _normalize(node):
    if isinstance(node, dict):
        return {_unquote(k): _normalize(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [_normalize(v) for v in node]
    return _unquote(node)


def _load(path: Path) -> dict:
    with path.open() as f:
        return _normalize(hcl2.load(f))


@pytest.fixture(scope="module")
def tf() -> dict:
    """All files merged: resource/data as {type: {name: body}}, variable/output as {name: body}."""
    merged: dict = {"resource": {}, "data": {}, "variable": {}, "output": {}}
    for path in TF_FILES:
        doc = _load(path)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        merged[kind].setdefault(rtype, {})[name] = body
        for kind in ("variable", "output"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
    return merged


def _blocks(body: dict, key: str) -> list[dict]:
    value = body.get(key, [])
    return value if isinstance(value, list) else [value]


def test_every_tf_file_parses():
    expected = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "iam.tf", "s3.tf", "secrets.tf"}
    assert expected <= {p.name for p in TF_FILES}
    for path in TF_FILES:
        assert isinstance(_load(path), dict)
    assert (TF_DIR / "backend.tf.example").is_file()
    assert not (TF_DIR / "backend.tf").exists()


@pytest.mark.parametrize("bucket", ["ingestion", "processed"])
def test_buckets_versioned_encrypted_private(tf, bucket):
    res = tf["resource"]
    assert bucket in res["aws_s3_bucket"]
    ref = f"aws_s3_bucket.{bucket}.id"

    versioning = res["aws_s3_bucket_versioning"][bucket]
    assert ref in versioning["bucket"]
    assert _blocks(versioning, "versioning_configuration")[0]["status"] == "Enabled"

    sse = res["aws_s3_bucket_server_side_encryption_configuration"][bucket]
    assert ref in sse["bucket"]
    default = _blocks(_blocks(sse, "rule")[0], "apply_server_side_encryption_by_default")[0]
    assert default["sse_algorithm"] in ("aws:kms", "AES256")

    pab = res["aws_s3_bucket_public_access_block"][bucket]
    assert ref in pab["bucket"]
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab[flag] is True, flag


def test_ingestion_lifecycle_transitions(tf):
    lifecycle = tf["resource"]["aws_s3_bucket_lifecycle_configuration"]["ingestion"]
    assert "aws_s3_bucket.ingestion.id" in lifecycle["bucket"]
    variables = tf["variable"]

    def resolve(value):
        match = re.fullmatch(r"\$\{var\.(\w+)\}", str(value))
        return _unquote(variables[match.group(1)]["default"]) if match else value

    transitions = []
    for rule in _blocks(lifecycle, "rule"):
        assert rule["status"] == "Enabled"
        transitions += [(int(resolve(t["days"])), resolve(t["storage_class"])) for t in _blocks(rule, "transition")]
    assert (30, "STANDARD_IA") in transitions
    assert any(days == 180 and cls in ("GLACIER_IR", "GLACIER") for days, cls in transitions)


def _statements(tf) -> list[dict]:
    return _blocks(tf["data"]["aws_iam_policy_document"]["code_location"], "statement")


def test_code_location_policy_is_least_privilege(tf):
    statements = _statements(tf)
    assert statements
    actions_by_resource: dict[str, set[str]] = {}
    for st in statements:
        assert st.get("effect", "Allow") == "Allow"
        actions = st["actions"]
        resources = st["resources"]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), action
        for resource in resources:
            assert resource != "*", st
            actions_by_resource.setdefault(resource, set()).update(actions)

    ingestion_arn = "${aws_s3_bucket.ingestion.arn}"
    processed_arn = "${aws_s3_bucket.processed.arn}"
    assert "s3:ListBucket" in actions_by_resource[ingestion_arn]
    assert "s3:ListBucket" in actions_by_resource[processed_arn]
    for arn in (ingestion_arn, processed_arn):
        objects = actions_by_resource[f"{arn}/*"]
        assert {"s3:GetObject", "s3:PutObject"} <= objects
    assert "s3:DeleteObject" not in actions_by_resource[f"{ingestion_arn}/*"]  # the system of record

    deletes = [r for r, acts in actions_by_resource.items() if "s3:DeleteObject" in acts]
    assert deletes == [f"{processed_arn}/*"]  # derived data only; rebuild_job empties it
    assert not any("ingestion" in r for r in deletes)

    secrets = {r for r, acts in actions_by_resource.items() if "secretsmanager:GetSecretValue" in acts}
    assert secrets == {
        "${aws_secretsmanager_secret.totesys_dsn.arn}",
        "${aws_secretsmanager_secret.warehouse_dsn.arn}",
        "${aws_secretsmanager_secret.smtp_password.arn}",
    }


def test_role_uses_the_policy_and_trusts_ecs_or_eks(tf):
    role = tf["resource"]["aws_iam_role"]["code_location"]
    assert "code_location_assume" in role["assume_role_policy"]
    attachment = tf["resource"]["aws_iam_role_policy_attachment"]["code_location"]
    assert "aws_iam_role.code_location" in attachment["role"]
    assert "aws_iam_policy.code_location" in attachment["policy_arn"]
    assert (
        "data.aws_iam_policy_document.code_location.json" in tf["resource"]["aws_iam_policy"]["code_location"]["policy"]
    )
    assume = tf["data"]["aws_iam_policy_document"]["code_location_assume"]
    text = repr(assume)
    assert "ecs-tasks.amazonaws.com" in text
    assert "sts:AssumeRoleWithWebIdentity" in text and "var.eks_oidc_provider_arn" in text


def test_secrets_for_dsns_and_smtp_password(tf):
    secrets = tf["resource"]["aws_secretsmanager_secret"]
    assert {"totesys_dsn", "warehouse_dsn", "smtp_password"} <= set(secrets)
    # values are set out of band: no secret value in terraform state
    assert "aws_secretsmanager_secret_version" not in tf["resource"]


def test_every_variable_has_a_description(tf):
    assert tf["variable"]
    for name, body in tf["variable"].items():
        assert str(body.get("description", "")).strip(), name


def test_outputs(tf):
    expected = {
        "ingestion_bucket_name",
        "ingestion_bucket_arn",
        "processed_bucket_name",
        "processed_bucket_arn",
        "code_location_role_arn",
        "totesys_dsn_secret_arn",
        "warehouse_dsn_secret_arn",
        "smtp_password_secret_arn",
    }
    assert expected <= set(tf["output"])
    for name, body in tf["output"].items():
        assert body.get("description"), name

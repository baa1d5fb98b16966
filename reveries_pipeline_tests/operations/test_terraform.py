"""Static checks of terraform/*.tf, parsed with python-hcl2 (no AWS account, no provider download)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "terraform"
TF_FILES = sorted(TF_DIR.glob("*.tf"))
INGESTION_ARN = "${aws_s3_bucket.ingestion.arn}"
PROCESSED_ARN = "${aws_s3_bucket.processed.arn}"


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
    """All files merged: resource/data as {type: {name: body}}, variable/output as {name: body}, locals as
    {name: value}."""
    merged: dict = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}}
    for path in TF_FILES:
        doc = _load(path)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        merged[kind].setdefault(rtype, {})[name] = body
        for kind in ("variable", "output", "locals"):
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


def _statements(tf, document: str = "code_location") -> list[dict]:
    return _blocks(tf["data"]["aws_iam_policy_document"][document], "statement")


def _allowed(tf, document: str, action: str) -> set[str]:
    """The resources `document` allows `action` on."""
    return {
        resource
        for st in _statements(tf, document)
        if st.get("effect", "Allow") == "Allow" and action in st["actions"]
        for resource in st["resources"]
    }


def _matches(patterns: set[str], arn: str) -> bool:
    # IAM's * matches any run of characters, '/' included, as fnmatch's does
    return any(fnmatchcase(arn, pattern) for pattern in patterns)


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

    deletes = {r for r, acts in actions_by_resource.items() if "s3:DeleteObject" in acts}
    assert deletes and all(r.startswith(f"{processed_arn}/") for r in deletes)  # derived data only

    secrets = {r for r, acts in actions_by_resource.items() if "secretsmanager:GetSecretValue" in acts}
    assert secrets == {
        "${aws_secretsmanager_secret.totesys_dsn.arn}",
        "${aws_secretsmanager_secret.warehouse_dsn.arn}",
        "${aws_secretsmanager_secret.smtp_password.arn}",
    }


def test_processed_delete_rights_are_what_the_code_deletes(tf):
    """Rebuild, the demo reset and quarantine delete these keys; nothing else may go."""
    from reveries_pipeline.catalog import PROCESSED_TABLE_NAMES
    from reveries_pipeline.operations.quarantine import QUARANTINE_PREFIX
    from reveries_pipeline.processing.derived_state import REJECTS_PREFIX
    from reveries_pipeline.processing.state import PROCESSING_STATE_PREFIX

    deletes = _allowed(tf, "code_location", "s3:DeleteObject")
    processed = f"{PROCESSED_ARN}/"
    deleted_by_code = [f"{table}/2026/11/27/{table}-20261127T101500123Z.parquet" for table in PROCESSED_TABLE_NAMES]
    deleted_by_code += [f"{REJECTS_PREFIX}/2026/11/27/x.parquet", f"{PROCESSING_STATE_PREFIX}checkpoint.json"]
    for key in deleted_by_code:
        assert _matches(deletes, processed + key), f"the code deletes {key} but the policy refuses it"

    kept = [f"{QUARANTINE_PREFIX}dim_staff/2026/11/27/x.parquet", "_state/ingestion/checkpoints/staff.json"]
    for key in kept:
        assert not _matches(deletes, processed + key), f"{key} must not be deletable"
    assert not _matches(deletes, f"{INGESTION_ARN}/staff/2026/11/27/staff-20261127T101500123Z.parquet")


def test_role_uses_the_policy_and_trusts_ecs_or_eks(tf):
    role = tf["resource"]["aws_iam_role"]["code_location"]
    assert 'assume["code_location"]' in role["assume_role_policy"]
    attachment = tf["resource"]["aws_iam_role_policy_attachment"]["code_location"]
    assert "aws_iam_role.code_location" in attachment["role"]
    assert "aws_iam_policy.code_location" in attachment["policy_arn"]
    assert (
        "data.aws_iam_policy_document.code_location.json" in tf["resource"]["aws_iam_policy"]["code_location"]["policy"]
    )
    assume = tf["data"]["aws_iam_policy_document"]["assume"]
    text = repr(assume)
    assert "ecs-tasks.amazonaws.com" in text
    assert "sts:AssumeRoleWithWebIdentity" in text and "var.eks_oidc_provider_arn" in text


def test_branch_deployments_have_their_own_role_and_policy(tf):
    res = tf["resource"]
    role = res["aws_iam_role"]["branch_deployments"]
    assert 'assume["branch_deployments"]' in role["assume_role_policy"]
    assert role["name"] != res["aws_iam_role"]["code_location"]["name"]
    attachment = res["aws_iam_role_policy_attachment"]["branch_deployments"]
    assert "aws_iam_role.branch_deployments" in attachment["role"]
    assert "aws_iam_policy.branch_deployments" in attachment["policy_arn"]
    policy = res["aws_iam_policy"]["branch_deployments"]["policy"]
    assert "data.aws_iam_policy_document.branch_deployments.json" in policy
    # each role trusts its own Kubernetes service accounts
    trust = tf["data"]["aws_iam_policy_document"]["assume"]
    assert trust["for_each"] == "${local.role_service_accounts}" and "each.value" in repr(trust)
    assert tf["locals"]["role_service_accounts"] == {
        "code_location": "${var.eks_service_accounts}",
        "branch_deployments": "${var.eks_branch_service_accounts}",
    }
    # nothing else attaches a policy to the branch role
    others = {name for name, a in res["aws_iam_role_policy_attachment"].items() if "branch_deployments" in a["role"]}
    assert others == {"branch_deployments"}


def _branch_key_prefixes() -> dict[str, str]:
    """Where reveries_pipeline/environment.py puts a branch deployment's objects, per bucket."""
    from reveries_pipeline.environment import build_resources

    env = {
        "DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT": "1",
        "DAGSTER_CLOUD_PULL_REQUEST_ID": "7",
        "TOTESYS_DSN": "postgresql://u@h/totesys",
        "WAREHOUSE_DSN": "postgresql://u@h/warehouse",
        "INGESTION_BUCKET_URL": "s3://ingest",
        "PROCESSED_BUCKET_URL": "s3://processed",
    }
    resources = build_resources(env)
    return {
        arn: resources[lake].url.split("/", 3)[3] + "/"
        for arn, lake in ((INGESTION_ARN, "ingestion_lake"), (PROCESSED_ARN, "processed_lake"))
    }


def test_branch_policy_reaches_only_the_branch_prefix(tf):
    prefixes = _branch_key_prefixes()
    assert all(p.startswith("branches/") for p in prefixes.values())
    statements = _statements(tf, "branch_deployments")
    for st in statements:
        assert st.get("effect", "Allow") == "Allow"
        assert all(a != "*" and not a.endswith(":*") for a in st["actions"]), st
        assert "*" not in st["resources"], st

    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        allowed = _allowed(tf, "branch_deployments", action)
        for arn, prefix in prefixes.items():
            assert _matches(allowed, f"{arn}/{prefix}raw/2026/x.parquet"), (action, arn)
            # production's objects and state are out of reach
            for key in ("staff/2026/11/27/x.parquet", "dim_staff/2026/x.parquet", "_state/ingestion/x.json"):
                assert not _matches(allowed, f"{arn}/{key}"), (action, key)

    # listing: the two buckets and nothing else (unconditioned, so a missing key is a 404, not a 403)
    (listing,) = [st for st in statements if "s3:ListBucket" in st["actions"]]
    assert listing["actions"] == ["s3:ListBucket"] and set(listing["resources"]) == {INGESTION_ARN, PROCESSED_ARN}

    secrets = _allowed(tf, "branch_deployments", "secretsmanager:GetSecretValue")
    assert secrets == {
        "${aws_secretsmanager_secret.branch_totesys_dsn.arn}",
        "${aws_secretsmanager_secret.branch_warehouse_dsn.arn}",
    }
    assert not secrets & _allowed(tf, "code_location", "secretsmanager:GetSecretValue")
    (kms,) = [st for st in statements if "kms:Decrypt" in st["actions"]]
    assert _blocks(kms, "condition")[0]["variable"] == "kms:ViaService"


def test_secrets_for_dsns_and_smtp_password(tf):
    secrets = tf["resource"]["aws_secretsmanager_secret"]
    assert {"totesys_dsn", "warehouse_dsn", "smtp_password", "branch_totesys_dsn", "branch_warehouse_dsn"} <= set(
        secrets
    )
    assert len({s["name"] for s in secrets.values()}) == len(secrets)
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
        "branch_deployments_role_arn",
        "branch_totesys_dsn_secret_arn",
        "branch_warehouse_dsn_secret_arn",
    }
    assert expected <= set(tf["output"])
    for name, body in tf["output"].items():
        assert body.get("description"), name


def _terraform_name(tf, template: str) -> str:
    """A resource name with the variables' defaults and locals.name_prefix filled in."""
    defaults = {name: _unquote(body.get("default")) for name, body in tf["variable"].items()}
    text = template.replace("${local.name_prefix}", "${var.project}-${var.environment}")
    return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(defaults[m.group(1)]), text)


def _container_context(rel: str) -> dict:
    (location,) = yaml.safe_load((ROOT / rel).read_text())["locations"]
    return location["container_context"]


def test_dagster_plus_configs_keep_branch_and_production_credentials_apart(tf):
    """Production deploys with dagster_cloud.yaml, pull requests with dagster_cloud_branch.yaml: each
    names its own terraform role and secrets, and the branch one nothing of production's."""
    secret = tf["resource"]["aws_secretsmanager_secret"]
    role = tf["resource"]["aws_iam_role"]
    expected = {
        "dagster_cloud.yaml": (role["code_location"], ("totesys_dsn", "warehouse_dsn", "smtp_password")),
        "dagster_cloud_branch.yaml": (role["branch_deployments"], ("branch_totesys_dsn", "branch_warehouse_dsn")),
    }
    seen: dict[str, set[str]] = {}
    for rel, (role_body, secret_names) in expected.items():
        ecs = _container_context(rel)["ecs"]
        assert ecs["task_role_arn"].endswith(":role/" + _terraform_name(tf, role_body["name"])), rel
        assert "secrets_tags" not in ecs  # a tag would pull in every secret carrying it
        arns = {s["valueFrom"] for s in ecs["secrets"]}
        names = {_terraform_name(tf, secret[n]["name"]) for n in secret_names}
        assert {arn.split(":secret:", 1)[1] for arn in arns} == names, rel
        seen[rel] = arns | {ecs["task_role_arn"]}
    assert not seen["dagster_cloud.yaml"] & seen["dagster_cloud_branch.yaml"]

    prod_k8s = _container_context("dagster_cloud.yaml")["k8s"]
    branch_k8s = _container_context("dagster_cloud_branch.yaml")["k8s"]
    assert not set(prod_k8s["env_secrets"]) & set(branch_k8s["env_secrets"])
    branch_accounts = [_unquote(sa) for sa in tf["variable"]["eks_branch_service_accounts"]["default"]]
    assert any(sa.endswith(":" + branch_k8s["service_account_name"]) for sa in branch_accounts)
    assert branch_k8s["service_account_name"] != prod_k8s["service_account_name"]

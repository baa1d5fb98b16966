"""Static checks of the deployment files: Dockerfile, Dagster+ config, workflows, Helm values, ECS doc."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULE = "reveries_pipeline.definitions"


def _yaml(rel: str) -> dict:
    return yaml.safe_load((ROOT / rel).read_text())


def _on(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert triggers is not None
    return (
        triggers
        if isinstance(triggers, dict)
        else {t: None for t in ([triggers] if isinstance(triggers, str) else triggers)}
    )


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            cmd, _, rest = line.partition(" ")
            out.append((cmd.upper(), rest.strip()))
    return out


def test_dockerfile_slim_nonroot_code_server():
    instructions = _instructions((ROOT / "Dockerfile").read_text())
    froms = [arg for cmd, arg in instructions if cmd == "FROM"]
    assert froms and all(re.match(r"python:3\.11-slim", f) for f in froms)
    users = [arg for cmd, arg in instructions if cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    # the last USER comes after every RUN that installs things
    last_user = max(i for i, (cmd, _) in enumerate(instructions) if cmd == "USER")
    assert all(i < last_user for i, (cmd, _) in enumerate(instructions) if cmd == "RUN")
    assert ("EXPOSE", "4000") in instructions
    cmd = [arg for c, arg in instructions if c == "CMD"][-1]
    assert MODULE in cmd and "4000" in cmd
    assert "code-server" in cmd or "grpc" in cmd
    runs = " ".join(arg for c, arg in instructions if c == "RUN")
    assert "requirements.lock" in runs


def test_requirements_lock_pins_runtime_only():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"dagster", "dagster-aws", "dagster-postgres", "polars", "boto3"} <= names
    assert not names & {"pytest", "moto", "ruff", "playwright", "aiosmtpd", "python-hcl2", "bandit"}


def test_dockerignore_keeps_secrets_and_venv_out():
    entries = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".env"} <= entries


def test_dagster_cloud_yaml():
    config = _yaml("dagster_cloud.yaml")
    (location,) = config["locations"]
    assert location["location_name"] == "reveries"
    assert location["code_source"]["module_name"] == MODULE
    assert location["build"]["directory"] == "."
    assert location["build"]["registry"]


def test_deploy_workflow():
    wf = _yaml(".github/workflows/deploy.yml")
    on = _on(wf)
    assert on["push"]["branches"] == ["main"]
    assert "pull_request" in on
    assert {"opened", "synchronize", "closed"} <= set(on["pull_request"]["types"])
    uses = [s.get("uses", "") for s in _steps(wf)]
    assert any(u.startswith("dagster-io/dagster-cloud-action/") for u in uses)
    ci_init = [s for s in _steps(wf) if "/ci-init@" in s.get("uses", "")]
    assert ci_init and ci_init[0]["with"]["deployment"] == "prod"
    commands = [s.get("with", {}).get("command", "") for s in _steps(wf)]
    assert any(c.startswith("ci deploy") for c in commands)
    assert any("--location-name=reveries" in c for c in commands)

    terraform = wf["jobs"]["terraform"]
    runs = [s.get("run", "") for s in terraform["steps"]]
    assert any("terraform fmt -check" in r for r in runs)
    assert any("terraform init" in r and "-backend=false" in r for r in runs)
    assert any("terraform validate" in r for r in runs)
    assert terraform["defaults"]["run"]["working-directory"] == "terraform"


def test_ci_workflow():
    wf = _yaml(".github/workflows/ci.yml")
    on = _on(wf)
    assert "push" in on and "pull_request" in on
    text = (ROOT / ".github/workflows/ci.yml").read_text()
    assert "3.11" in text
    runs = [s.get("run", "") for s in _steps(wf)]
    install = next(r for r in runs if "chromium" in r)
    assert "chromium-driver" in install
    make_test = next(i for i, r in enumerate(runs) if r.strip() == "make test")
    make_checks = next(i for i, r in enumerate(runs) if r.strip() == "make run-checks")
    assert make_test < make_checks


def test_helm_values():
    values = _yaml("deploy/helm/values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlHost"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", MODULE]
    assert deployment["image"]["repository"]
    secret_names = {s["name"] for s in deployment["envSecrets"]}
    assert secret_names
    text = (ROOT / "deploy/helm/values.yaml").read_text()
    for var in ("TOTESYS_DSN", "WAREHOUSE_DSN", "INGESTION_BUCKET_URL", "PROCESSED_BUCKET_URL"):
        assert var in text
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["type"] == "QueuedRunCoordinator"
    assert queue["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] >= 1


def test_ecs_readme_dagster_yaml_is_valid_launcher_config():
    text = (ROOT / "deploy/ecs/README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    instance = next(b for b in blocks if isinstance(b, dict) and "run_launcher" in b)
    launcher = instance["run_launcher"]
    assert launcher["class"] == "EcsRunLauncher" and launcher["module"] == "dagster_aws.ecs"

    ecs = pytest.importorskip("dagster_aws.ecs")
    fields = ecs.EcsRunLauncher.config_type()  # the launcher's documented config fields (name -> Field)
    unknown = set(launcher["config"]) - set(fields)
    assert not unknown, f"EcsRunLauncher has no config fields {sorted(unknown)}"


def test_production_doc_exists():
    text = (ROOT / "docs/production.md").read_text()
    for word in ("Dagster+", "Kubernetes", "ECS", "Terraform"):
        assert word in text

"""Static checks of the deployment files: Dockerfile, Dagster+ config, workflows, Helm values, ECS doc."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import errors, sql

ROOT = Path(__file__).resolve().parents[2]
MODULE = "reveries_pipeline.definitions"
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


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


def _requirements() -> list[str]:
    """requirements.lock's requirements, one per entry, continuation lines joined."""
    text = (ROOT / "requirements.lock").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\s*\\\n\s*", " ", "\n".join(lines))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _recipe(target: str) -> list[str]:
    """The commands of a Makefile target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        commands.append(line.strip())
    return commands


def test_dockerfile_slim_nonroot_code_server():
    instructions = _instructions((ROOT / "Dockerfile").read_text())
    froms = [arg for cmd, arg in instructions if cmd == "FROM"]
    assert froms and all(re.match(r"python:3\.11-slim@sha256:[0-9a-f]{64}$", f) for f in froms), froms
    users = [arg for cmd, arg in instructions if cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    # the last USER comes after every RUN that installs things
    last_user = max(i for i, (cmd, _) in enumerate(instructions) if cmd == "USER")
    assert all(i < last_user for i, (cmd, _) in enumerate(instructions) if cmd == "RUN")
    assert ("EXPOSE", "4000") in instructions
    cmd = [arg for c, arg in instructions if c == "CMD"][-1]
    assert MODULE in cmd and "4000" in cmd
    assert "code-server" in cmd or "grpc" in cmd
    runs = [arg for c, arg in instructions if c == "RUN"]
    # dependencies only from the hashed lock; the project itself adds none
    assert any(re.search(r"pip install --require-hashes --no-deps -r requirements\.lock\b", r) for r in runs)
    project = next(r for r in runs if re.search(r"pip install .*(?<![-\w])\.(\s|$)", r))
    assert "--no-deps" in project and "pip check" in project  # and the lock was the whole closure


def test_requirements_lock_pins_runtime_only():
    lines = _requirements()
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"dagster", "dagster-aws", "dagster-postgres", "polars", "boto3"} <= names
    assert not names & {"pytest", "moto", "ruff", "playwright", "aiosmtpd", "python-hcl2", "bandit"}


def test_requirements_lock_every_package_pinned_and_hashed():
    requirement = re.compile(r"^[a-z0-9][a-z0-9._-]*==[A-Za-z0-9.+!_-]+(?: --hash=sha256:[0-9a-f]{64})+$")
    lines = _requirements()
    unhashed = [line.split(" ")[0] for line in lines if not requirement.match(line)]
    assert not unhashed, f"not pinned with == and sha256 hashes: {unhashed}"
    names = [line.split("==")[0] for line in lines]
    assert len(names) == len(set(names))


def test_makefile_installs_and_audits_the_hashed_lock():
    install = _recipe("$(VENV)/.requirements")
    lock_install = next(c for c in install if "-r requirements.lock" in c)
    assert "--require-hashes" in lock_install and "--no-deps" in lock_install
    assert any(c.endswith("pip check") for c in install)
    # the project itself comes after, without dependencies (they all came from the lock)
    assert install.index(lock_install) < next(i for i, c in enumerate(install) if "--no-deps -e ." in c)

    audit = next(c for c in _recipe("run-checks") if "pip-audit" in c)
    assert re.search(r"pip-audit .*-r requirements\.lock", audit) and "--require-hashes" in audit
    assert "--strict" in audit and "|| true" not in audit and not audit.startswith("-")


def _uses_lines() -> list[str]:
    return [
        line.strip() for wf in WORKFLOWS for line in wf.read_text().splitlines() if re.match(r"\s*-?\s*uses:", line)
    ]


def test_actions_pinned_by_commit_sha():
    uses = _uses_lines()
    assert uses
    pinned = re.compile(r"^-?\s*uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    unpinned = [u for u in uses if not pinned.match(u)]
    assert not unpinned, f"actions not pinned by a full commit SHA with a '# vX.Y.Z' comment: {unpinned}"


def test_container_images_pinned_by_digest():
    images = [
        job["container"]["image"] if isinstance(job["container"], dict) else job["container"]
        for wf in WORKFLOWS
        for job in yaml.safe_load(wf.read_text())["jobs"].values()
        if "container" in job
    ]
    assert images
    assert all(re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image) for image in images), images


def test_dockerignore_keeps_secrets_and_venv_out():
    entries = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".env"} <= entries


@pytest.mark.parametrize("rel", ["dagster_cloud.yaml", "dagster_cloud_branch.yaml"])
def test_dagster_cloud_yaml(rel):
    config = _yaml(rel)
    (location,) = config["locations"]
    assert location["location_name"] == "reveries"
    assert location["code_source"]["module_name"] == MODULE
    assert location["build"]["directory"] == "."
    assert location["build"]["registry"] == _yaml("dagster_cloud.yaml")["locations"][0]["build"]["registry"]
    # the ECS container context is one dagster-aws accepts, with the role and secrets it names
    ecs = pytest.importorskip("dagster_aws.ecs.container_context")
    context = ecs.EcsContainerContext.create_from_config(location["container_context"])
    assert context.task_role_arn and {s["name"] for s in context.secrets} >= {"TOTESYS_DSN", "WAREHOUSE_DSN"}


def test_deploy_workflow():
    wf = _yaml(".github/workflows/deploy.yml")
    on = _on(wf)
    assert on["push"]["branches"] == ["main"]
    assert "pull_request" in on
    assert {"opened", "synchronize", "closed"} <= set(on["pull_request"]["types"])
    uses = [s.get("uses", "") for s in _steps(wf)]
    assert any(u.startswith("dagster-io/dagster-cloud-action/") for u in uses)
    # the dg deploy session (`dg plus deploy start`), never the deprecated `dagster-cloud ci check/deploy`
    ci_init = [s for s in _steps(wf) if "/dg-deploy-init@" in s.get("uses", "")]
    assert ci_init and ci_init[0]["with"]["deployment"] == "prod"
    commands = [s.get("with", {}).get("command", "") for s in _steps(wf)]
    assert any(c.startswith("plus deploy finish") for c in commands)
    assert any(c.startswith("plus deploy set-build-output") and "--location-name=reveries" in c for c in commands)
    assert not any(c.startswith(("ci check", "ci init", "ci deploy", "ci set-build-output")) for c in commands)
    # dg reads the chosen deployment's build.yaml and container_context.yaml, laid out before the session
    runs = [s.get("run", "") for s in _steps(wf)]
    select = next(i for i, r in enumerate(runs) if 'select_config.py "$DAGSTER_CLOUD_YAML_PATH"' in r)
    assert select < next(i for i, s in enumerate(_steps(wf)) if "/dg-deploy-init@" in s.get("uses", ""))

    # a pull request deploys with the branch configuration and the branch AWS role, never prod's
    yaml_path = wf["env"]["DAGSTER_CLOUD_YAML_PATH"]
    assert re.fullmatch(
        r"\$\{\{ github\.event_name == 'pull_request' && 'dagster_cloud_branch\.yaml' \|\| 'dagster_cloud\.yaml' \}\}",
        yaml_path,
    )
    aws = [s for s in _steps(wf) if "configure-aws-credentials" in s.get("uses", "")]
    roles = {s["with"]["role-to-assume"]: s["if"] for s in aws}
    started = "steps.prerun.outputs.result != 'skip'"
    assert roles == {
        "${{ vars.AWS_DEPLOY_ROLE_ARN }}": f"{started} && github.event_name != 'pull_request'",
        "${{ vars.AWS_BRANCH_DEPLOY_ROLE_ARN }}": f"{started} && github.event_name == 'pull_request'",
    }

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
    assert queue["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"] == _repository_run_limits()


def _repository_run_limits() -> list[dict]:
    """The tag limits of the repository's dagster.yaml: every deployment's run queue carries them."""
    return _yaml("dagster.yaml")["concurrency"]["runs"]["tag_concurrency_limits"]


def test_ecs_readme_dagster_yaml_is_valid_launcher_config():
    text = (ROOT / "deploy/ecs/README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    instance = next(b for b in blocks if isinstance(b, dict) and "run_launcher" in b)
    launcher = instance["run_launcher"]
    assert launcher["class"] == "EcsRunLauncher" and launcher["module"] == "dagster_aws.ecs"
    assert instance["run_coordinator"]["config"]["tag_concurrency_limits"] == _repository_run_limits()

    ecs = pytest.importorskip("dagster_aws.ecs")
    fields = ecs.EcsRunLauncher.config_type()  # the launcher's documented config fields (name -> Field)
    unknown = set(launcher["config"]) - set(fields)
    assert not unknown, f"EcsRunLauncher has no config fields {sorted(unknown)}"


def test_production_doc_exists():
    text = (ROOT / "docs/production.md").read_text()
    for word in ("Dagster+", "Kubernetes", "ECS", "Terraform"):
        assert word in text


# ------------------------------------------------------------------------------------------------
# Variable names: every one a deploy file sets is one the code reads.
# ------------------------------------------------------------------------------------------------
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
ENV_READERS = {"get", "getenv", "_set", "_stripped", "env_value", "EnvVar"}
# Read by the libraries, not by reveries_pipeline: Dagster's instance home, and the variable the ECS
# dagster.yaml itself hands EcsRunLauncher (task_definition: {env: ...}).
READ_BY_LIBRARIES = {"DAGSTER_HOME", "REVERIES_CODE_TASK_DEFINITION_ARN"}


def _variables_the_code_reads() -> set[str]:
    """Names reveries_pipeline reads from the environment: the config.py contract, and literal names
    handed to env.get / os.environ[...] / EnvVar / the package's env helpers."""
    names: set[str] = set()
    for path in (ROOT / "reveries_pipeline").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            literals: list = []
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ENV_READERS:
                    literals = node.args
            elif isinstance(node, ast.Subscript) and "environ" in ast.unparse(node.value):
                literals = [node.slice]
            elif isinstance(node, ast.Assign) and path.name == "config.py":
                literals = [node.value]
            names |= {n.value for n in literals if isinstance(n, ast.Constant) and ENV_NAME.match(str(n.value))}
    return names


def _variables_named(node) -> set[str]:
    """Env variable names a parsed deploy config sets or reads: {name, value|valueFrom} entries,
    NAME=value strings under env_vars, and {env: NAME}."""
    names: set[str] = set()
    if isinstance(node, dict):
        if "name" in node and ({"value", "valueFrom"} & set(node)):
            names.add(node["name"])
        if isinstance(node.get("env"), str):
            names.add(node["env"])
        for key, value in node.items():
            if key == "env_vars":
                names |= {entry.split("=", 1)[0] for entry in value}
            else:
                names |= _variables_named(value)
    elif isinstance(node, list):
        for item in node:
            names |= _variables_named(item)
    return names


def _deploy_variable_names() -> dict[str, set[str]]:
    named: dict[str, set[str]] = {}
    ecs = (ROOT / "deploy/ecs/README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", ecs, re.S)]
    blocks += [json.loads(b) for b in re.findall(r"```json\n(.*?)```", ecs, re.S)]
    named["deploy/ecs/README.md"] = _variables_named(blocks)
    helm = (ROOT / "deploy/helm/values.yaml").read_text()
    named["deploy/helm/values.yaml"] = _variables_named(yaml.safe_load(helm)) | set(
        re.findall(r"--from-literal=(\w+)=", helm)
    )
    for rel in ("dagster_cloud.yaml", "dagster_cloud_branch.yaml"):
        named[rel] = _variables_named(yaml.safe_load((ROOT / rel).read_text()))
    return named


def test_deploy_files_name_only_variables_the_code_reads():
    read = _variables_the_code_reads()
    # the contract itself is found, so an empty or broken scan can't pass
    assert {"TOTESYS_DSN", "WAREHOUSE_DSN", "INGESTION_BUCKET_URL", "PROCESSED_BUCKET_URL", "DAGSTER_PG_URL"} <= read
    assert {"ALERT_SMTP_HOST", "ALERT_EMAIL_TO", "ALERT_SMTP_PASSWORD", "DAGSTER_CLOUD_DEPLOYMENT_NAME"} <= read
    named = _deploy_variable_names()
    assert all(named.values()), named
    unknown = {rel: sorted(names - read - READ_BY_LIBRARIES) for rel, names in named.items()}
    assert not any(unknown.values()), f"variables no code reads: {unknown}"
    # the ECS runs get everything a production run needs
    assert {"TOTESYS_DSN", "WAREHOUSE_DSN", "DAGSTER_PG_URL", "DAGSTER_CLOUD_DEPLOYMENT_NAME"} <= named[
        "deploy/ecs/README.md"
    ]


# ------------------------------------------------------------------------------------------------
# The branch deployments' database role (deploy/sql/), on a real PostgreSQL.
# ------------------------------------------------------------------------------------------------
BRANCH_ROLE = "reveries_branch"


def _apply(dsn: str, script: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((ROOT / "deploy/sql" / script).read_text())


def _as_branch_role(dsn: str, statement: str):
    """Run `statement` with the branch role's privileges; returns the rows (None for no result)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(BRANCH_ROLE)))
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else None


def test_branch_role_owns_its_warehouse_schema_and_cannot_touch_production(warehouse_dsn):
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.dim_staff (staff_id int); INSERT INTO public.dim_staff VALUES (1)")
    _apply(warehouse_dsn, "branch_role_warehouse.sql")
    _apply(warehouse_dsn, "branch_role_warehouse.sql")  # idempotent

    # what environment.py's branch warehouse resource does: its own schema, then its tables
    _as_branch_role(warehouse_dsn, "CREATE SCHEMA IF NOT EXISTS pr_7")
    _as_branch_role(warehouse_dsn, "CREATE TABLE pr_7.dim_staff (staff_id int); INSERT INTO pr_7.dim_staff VALUES (2)")
    assert _as_branch_role(warehouse_dsn, "SELECT staff_id FROM pr_7.dim_staff") == [(2,)]

    for statement in (
        "SELECT * FROM public.dim_staff",
        "INSERT INTO public.dim_staff VALUES (3)",
        "TRUNCATE public.dim_staff",
        "DROP TABLE public.dim_staff",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            _as_branch_role(warehouse_dsn, statement)
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT staff_id FROM public.dim_staff").fetchall() == [(1,)]
        flags = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles "
            "WHERE rolname = %s",
            (BRANCH_ROLE,),
        ).fetchone()
    assert flags == (False, False, False, False, False)


def test_branch_role_reads_totesys_and_writes_nothing(totesys_dsn):
    with psycopg.connect(totesys_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.staff (staff_id int); INSERT INTO public.staff VALUES (1)")
        database = conn.info.dbname
    _apply(totesys_dsn, "branch_role_totesys.sql")

    assert _as_branch_role(totesys_dsn, "SELECT staff_id FROM public.staff") == [(1,)]
    for statement in ("INSERT INTO public.staff VALUES (2)", "CREATE TABLE public.x (i int)", "CREATE SCHEMA pr_7"):
        with pytest.raises(errors.InsufficientPrivilege):
            _as_branch_role(totesys_dsn, statement)
    # every session the role opens in this database is read-only (applied at login)
    with psycopg.connect(totesys_dsn) as conn:
        settings = conn.execute(
            "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
            "JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = %s AND d.datname = %s",
            (BRANCH_ROLE, database),
        ).fetchone()
    assert settings == (["default_transaction_read_only=on"],)

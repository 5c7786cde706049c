"""The Helm chart and the Dockerfile: lint, render every ci variant, validate each object against the
Kubernetes OpenAPI schema offline, and check the behaviour an operator relies on."""

from __future__ import annotations

import base64
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "yishi"
VARIANTS = {path.name.removesuffix("-values.yaml"): path for path in sorted(CHART.glob("ci/*-values.yaml"))}
RELEASE = "yishi"
# The oldest schema the validator ships (the chart's kubeVersion floor is 1.25) and the newest.
KUBE_VERSIONS = sorted({all_versions()[0], all_versions()[-1]})
HOOK_INSTALL_UPGRADE = "pre-install,pre-upgrade"
API, WORKER = RELEASE, f"{RELEASE}-worker"  # the two Deployments (and their PodDisruptionBudgets)

Doc = dict[str, Any]


@cache
def helm() -> str:
    """The helm binary: the venv's (where `make test` fetches it), else one on PATH. Missing means failing."""
    for candidate in (Path(sys.executable).parent / "helm", ROOT / ".venv" / "bin" / "helm"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("helm")
    if found:
        return found
    pytest.fail("helm not found: run `make test` (it fetches helm into .venv/bin via .ci/fetch-helm), "
                "or `.venv/bin/python .ci/fetch-helm`, or put helm on PATH")


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, timeout=120)


@cache
def render(variant: str, *settings: str) -> list[Doc]:
    """`helm template` of one ci variant (plus `--set` overrides), as a list of objects."""
    args = ["template", RELEASE, str(CHART), "--namespace", "civic", "-f", str(VARIANTS[variant])]
    for setting in settings:
        args += ["--set", setting]
    result = run_helm(*args)
    assert result.returncode == 0, f"helm {shlex.join(args)} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def values(variant: str) -> Doc:
    return yaml.safe_load(VARIANTS[variant].read_text())


def only(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


def kinds(docs: list[Doc]) -> set[str]:
    return {d["kind"] for d in docs}


def names(docs: list[Doc], kind: str) -> set[str]:
    return {d["metadata"]["name"] for d in docs if d["kind"] == kind}


def pod_specs(docs: list[Doc]) -> dict[str, Doc]:
    """Every pod the chart can start: the API and worker Deployments', the migration Job's and the `helm test`
    Pod."""
    specs = {}
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job"}:
            specs[f"{doc['kind']}/{doc['metadata']['name']}"] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            specs[f"Pod/{doc['metadata']['name']}"] = doc["spec"]
    return specs


def env_of(container: Doc) -> dict[str, Doc]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def secret_value(docs: list[Doc], ref: Doc) -> str:
    """The decoded value a secretKeyRef points at, in a Secret the chart rendered."""
    secret = only(docs, "Secret", ref["name"])
    return base64.b64decode(secret["data"][ref["key"]]).decode()


def api_container(docs: list[Doc]) -> Doc:
    return only(docs, "Deployment", API)["spec"]["template"]["spec"]["containers"][0]


def test_there_are_variants_to_test() -> None:
    assert {"default", "ingress-hpa-pdb", "existing-secret", "external-postgres", "object-storage"} <= set(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_helm_lint(variant: str) -> None:
    result = run_helm("lint", "--strict", str(CHART), "-f", str(VARIANTS[variant]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_rendered_object_is_valid_kubernetes(variant: str) -> None:
    docs = render(variant)
    assert {"Deployment", "Service", "ConfigMap", "Job"} <= kinds(docs)
    assert names(docs, "Deployment") == {API, WORKER}
    problems = validation_problems(docs)
    assert not problems, f"{variant}:\n" + "\n".join(problems)


def validation_problems(docs: list[Doc]) -> list[str]:
    """What the Kubernetes OpenAPI schemas (the oldest and newest the validator ships) find wrong."""
    problems = []
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for version in KUBE_VERSIONS:
            # strict: unknown fields are errors too, so a misspelt key cannot pass silently.
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                problems.append(f"{name} is invalid for Kubernetes {version}: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                problems.append(f"{name} has no schema to be validated against: {exc.message}")
    return problems


def test_migration_job_is_a_pre_install_pre_upgrade_hook_running_as_the_owner() -> None:
    docs = render("default")
    job = only(docs, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == HOOK_INSTALL_UPGRADE
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["yishi", "migrate"]
    env = env_of(container)
    owner_ref = env["YISHI_MIGRATIONS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert secret_value(docs, owner_ref) == values("default")["database"]["migrationsUrl"]
    # It also needs the app's URL: migrating creates and grants the app role named in it.
    app_ref = env["YISHI_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert secret_value(docs, app_ref) == values("default")["database"]["url"]
    # pre-install hooks run before the release's own objects exist, so the Job's Secret is a hook too,
    # created first (lower weight) and deleted once the migration has succeeded.
    secret = only(docs, "Secret", owner_ref["name"])
    secret_annotations = secret["metadata"]["annotations"]
    assert secret_annotations["helm.sh/hook"] == HOOK_INSTALL_UPGRADE
    assert int(secret_annotations["helm.sh/hook-weight"]) < int(annotations.get("helm.sh/hook-weight", "0"))
    assert "hook-succeeded" in secret_annotations["helm.sh/hook-delete-policy"]


def test_api_pods_connect_as_the_app_role_and_never_see_the_owner() -> None:
    docs = render("default")
    container = api_container(docs)
    env = env_of(container)
    assert "YISHI_MIGRATIONS_DATABASE_URL" not in env
    assert secret_value(docs, env["YISHI_DATABASE_URL"]["valueFrom"]["secretKeyRef"]) == values("default")["database"]["url"]
    app_secret = only(docs, "Secret", env["YISHI_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"])
    assert "helm.sh/hook" not in app_secret["metadata"].get("annotations", {})
    assert "YISHI_MIGRATIONS_DATABASE_URL" not in app_secret["data"]
    config = only(docs, "ConfigMap")["data"]
    assert config["YISHI_ENV"] == "production"
    assert not any("DATABASE_URL" in key or "SECRET" in key for key in config)


def test_api_pods_run_granian_with_the_configured_workers() -> None:
    container = api_container(render("default", "workers=3"))
    assert container["command"] == ["yishi", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "3"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    # The workers add their metrics up through a directory on the writable /tmp volume.
    metrics_dir = env_of(container)["PROMETHEUS_MULTIPROC_DIR"]["value"]
    assert any(metrics_dir.startswith(mount["mountPath"]) for mount in container["volumeMounts"]
               if mount["name"] == "tmp")


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_runs_as_non_root_on_a_read_only_root(variant: str) -> None:
    specs = pod_specs(render(variant))
    assert len(specs) == 4, specs.keys()  # API, worker, migration, helm test
    for name, spec in specs.items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] != 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "resources" in container, name
        if name.startswith("Pod/"):
            continue  # the `helm test` pod writes nothing
        # Python and uploads need a writable /tmp on a read-only root.
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            tmp = [m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in volumes[tmp[0]], name


def test_probes_hit_health_and_ready() -> None:
    docs = render("default")
    container = api_container(docs)
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    test_pod = only(docs, "Pod")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert "/ready" in " ".join(test_pod["spec"]["containers"][0]["command"])


def test_rolling_updates_never_drop_below_the_desired_count() -> None:
    deployment = only(render("default"), "Deployment", API)
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert {"checksum/config", "checksum/secret"} <= set(annotations)


def test_existing_secret_variant_creates_no_secret_and_reads_the_given_one() -> None:
    docs = render("existing-secret")
    assert "Secret" not in kinds(docs)
    database = values("existing-secret")["database"]
    keys = database["existingSecretKeys"]
    refs = {}
    for name, spec in pod_specs(docs).items():
        for container in spec["containers"]:
            for entry in container.get("env", []):
                if "valueFrom" in entry:
                    ref = entry["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == database["existingSecret"], name
                    refs[entry["name"]] = ref["key"]
    assert refs == {"YISHI_SECRET_KEY": keys["secretKey"], "YISHI_DATABASE_URL": keys["url"],
                    "YISHI_MIGRATIONS_DATABASE_URL": keys["migrationsUrl"]}
    assert "checksum/secret" not in only(docs, "Deployment", API)["spec"]["template"]["metadata"]["annotations"]


def test_ingress_hpa_and_pdb_appear_only_when_enabled() -> None:
    default = render("default")
    assert "Ingress" not in kinds(default)
    assert "HorizontalPodAutoscaler" not in kinds(default)
    assert only(default, "Deployment", API)["spec"]["replicas"] == 2
    assert names(default, "PodDisruptionBudget") == {API, WORKER}
    assert names(render("default", "pdb.enabled=false"), "PodDisruptionBudget") == {WORKER}
    assert names(render("default", "worker.pdb.enabled=false"), "PodDisruptionBudget") == {API}

    docs = render("ingress-hpa-pdb")
    deployment = only(docs, "Deployment", API)
    hpa = only(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert "replicas" not in deployment["spec"]  # the HPA owns the count; a fixed one would fight it
    pdb = only(docs, "PodDisruptionBudget", API)
    assert pdb["spec"]["minAvailable"] == 2


def test_pdb_and_service_select_the_api_pods_and_not_the_migration_or_the_workers() -> None:
    docs = render("ingress-hpa-pdb")
    api_labels = only(docs, "Deployment", API)["spec"]["template"]["metadata"]["labels"]
    job_labels = only(docs, "Job")["spec"]["template"]["metadata"]["labels"]
    worker_labels = only(docs, "Deployment", WORKER)["spec"]["template"]["metadata"]["labels"]
    for selector in (only(docs, "PodDisruptionBudget", API)["spec"]["selector"]["matchLabels"],
                     only(docs, "Service")["spec"]["selector"]):
        assert selector.items() <= api_labels.items()
        assert not selector.items() <= job_labels.items()
        assert not selector.items() <= worker_labels.items()
    # The workers' own budget picks the workers alone.
    worker_selector = only(docs, "PodDisruptionBudget", WORKER)["spec"]["selector"]["matchLabels"]
    assert worker_selector.items() <= worker_labels.items()
    assert only(docs, "Deployment", WORKER)["spec"]["selector"]["matchLabels"] == worker_selector
    assert not worker_selector.items() <= api_labels.items()
    assert not worker_selector.items() <= job_labels.items()


def worker_container(docs: list[Doc]) -> Doc:
    return only(docs, "Deployment", WORKER)["spec"]["template"]["spec"]["containers"][0]


def test_workers_run_yishi_worker_with_the_configured_replicas_concurrency_and_probes() -> None:
    default = only(render("default"), "Deployment", WORKER)
    assert default["spec"]["replicas"] == 2
    assert default["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "yishi", "worker", "--concurrency", "8"]

    docs = render("default", "worker.replicas=3", "worker.concurrency=4", "worker.terminationGracePeriodSeconds=90")
    deployment = only(docs, "Deployment", WORKER)
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    # SIGTERM lets the jobs at hand finish; the grace period is how long they get.
    assert pod["terminationGracePeriodSeconds"] == 90
    container = worker_container(docs)
    assert container["command"] == ["yishi", "worker", "--concurrency", "4"]
    assert "ports" not in container  # nothing connects to a worker: it takes its jobs from the database
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["exec"] == {"command": ["yishi", "worker", "--check"]}, probe
        # `--check` gives up after 5 s; the probe must wait longer than that to hear its answer.
        assert container[probe]["timeoutSeconds"] > 5, probe
    assert container["resources"] == yaml.safe_load((CHART / "values.yaml").read_text())["worker"]["resources"]
    sized = worker_container(render("default", "worker.resources.requests.cpu=250m"))
    assert sized["resources"]["requests"]["cpu"] == "250m"
    assert {"checksum/config", "checksum/secret"} <= set(deployment["spec"]["template"]["metadata"]["annotations"])


@pytest.mark.parametrize("variant", ["default", "existing-secret"])
def test_workers_read_the_same_settings_and_secrets_as_the_api_pods(variant: str) -> None:
    docs = render(variant)
    api, worker = api_container(docs), worker_container(docs)
    assert worker["image"] == api["image"] and worker["imagePullPolicy"] == api["imagePullPolicy"]
    assert worker["envFrom"] == api["envFrom"]
    api_secrets = {name: entry for name, entry in env_of(api).items() if "valueFrom" in entry}
    worker_secrets = {name: entry for name, entry in env_of(worker).items() if "valueFrom" in entry}
    assert worker_secrets == api_secrets
    assert set(worker_secrets) == {"YISHI_SECRET_KEY", "YISHI_DATABASE_URL"}  # never the owner's URL
    api_pod = only(docs, "Deployment", API)["spec"]["template"]["spec"]
    worker_pod = only(docs, "Deployment", WORKER)["spec"]["template"]["spec"]
    assert worker_pod["securityContext"] == api_pod["securityContext"]
    assert worker_pod.get("imagePullSecrets") == api_pod.get("imagePullSecrets")


def test_worker_disabled_renders_no_worker() -> None:
    docs = render("default", "worker.enabled=false")
    assert names(docs, "Deployment") == {API}
    assert names(docs, "PodDisruptionBudget") == {API}
    assert not any(doc["metadata"]["name"].startswith(WORKER) for doc in docs)
    assert not validation_problems(docs)


def test_ingress_routes_the_main_host_and_every_tenant_portal() -> None:
    docs = render("ingress-hpa-pdb")
    settings = values("ingress-hpa-pdb")
    domain = settings["portalDomain"]
    ingress = only(docs, "Ingress")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == [settings["ingress"]["host"], f"*.{domain}"]
    assert ingress["spec"]["tls"][0]["hosts"] == hosts
    service = only(docs, "Service")["metadata"]["name"]
    for rule in ingress["spec"]["rules"]:
        assert rule["http"]["paths"][0]["backend"]["service"]["name"] == service
    assert only(docs, "ConfigMap")["data"]["YISHI_PORTAL_DOMAIN"] == domain
    assert "YISHI_PORTAL_DOMAIN" not in only(render("default"), "ConfigMap")["data"]


def test_media_lives_on_a_shared_volume() -> None:
    docs = render("default")
    media_dir = only(docs, "ConfigMap")["data"]["YISHI_MEDIA_DIR"]
    spec = only(docs, "Deployment", API)["spec"]["template"]["spec"]
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == media_dir)
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    claim = only(docs, "PersistentVolumeClaim")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # every API pod mounts it
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"

    existing = render("existing-secret")
    assert "PersistentVolumeClaim" not in kinds(existing)
    volumes = only(existing, "Deployment", API)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "media", "persistentVolumeClaim": {"claimName": "yishi-media"}} in volumes

    ephemeral = render("external-postgres")
    assert "PersistentVolumeClaim" not in kinds(ephemeral)
    volumes = only(ephemeral, "Deployment", API)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "media", "emptyDir": {}} in volumes


def test_media_in_object_storage_needs_no_volume_and_reads_its_credentials_from_a_secret() -> None:
    docs = render("object-storage")
    settings = values("object-storage")["objectStorage"]
    config = only(docs, "ConfigMap")["data"]
    assert config["YISHI_MEDIA_URL"] == settings["url"] and "YISHI_MEDIA_DIR" not in config
    assert "PersistentVolumeClaim" not in kinds(docs)
    spec = only(docs, "Deployment", API)["spec"]["template"]["spec"]
    assert [v["name"] for v in spec["volumes"]] == ["tmp"]
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["tmp"]
    env = {e["name"]: e for e in api_container(docs)["env"]}
    secret = only(docs, "Secret", f"{RELEASE}-object-storage")
    for name, value in (("AWS_ACCESS_KEY_ID", settings["accessKeyId"]),
                        ("AWS_SECRET_ACCESS_KEY", settings["secretAccessKey"])):
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == secret["metadata"]["name"]
        assert base64.b64decode(secret["data"][reference["key"]]).decode() == value
    # The workers and the migration Job never touch photos: they get neither the bucket's keys nor a volume.
    for name, pod in pod_specs(docs).items():
        if name != f"Deployment/{API}":
            assert not any(n.startswith("AWS_") for c in pod["containers"] for n in env_of(c)), name
            assert not any("persistentVolumeClaim" in v for v in pod.get("volumes", [])), name
    assert "checksum/media-secret" in only(docs, "Deployment", API)["spec"]["template"]["metadata"]["annotations"]

    # The operator's own Secret, with its own key names: the chart makes none.
    own = render("object-storage", "objectStorage.existingSecret=oss-keys",
                 "objectStorage.existingSecretKeys.accessKeyId=id", "objectStorage.existingSecretKeys.secretAccessKey=key")
    assert f"{RELEASE}-object-storage" not in names(own, "Secret")
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in api_container(own)["env"] if e["name"].startswith("AWS_")}
    assert env == {"AWS_ACCESS_KEY_ID": {"name": "oss-keys", "key": "id"},
                   "AWS_SECRET_ACCESS_KEY": {"name": "oss-keys", "key": "key"}}

    # Off (every other variant): no bucket settings and no credentials.
    local = render("default")
    assert "YISHI_MEDIA_URL" not in only(local, "ConfigMap")["data"]
    assert not any(e["name"].startswith("AWS_") for e in api_container(local)["env"])


@pytest.mark.parametrize(("setting", "message"), [
    ("replicaCount=three", "/replicaCount"),
    ("database.url=sqlite+aiosqlite:///./var/yishi.db", "/database/url"),
    ("replicas=3", "additional properties 'replicas'"),
    ("secretKey=short", "/secretKey"),
    ("pdb.maxUnavailable=half", "/pdb/maxUnavailable"),
    ("worker.replicas=two", "/worker/replicas"),
    ("worker.concurrency=eight", "/worker/concurrency"),
    ("objectStorage.url=https://bucket.oss-cn-hangzhou.aliyuncs.com", "/objectStorage/url"),
])
def test_values_schema_rejects_bad_values(setting: str, message: str) -> None:
    result = run_helm("template", RELEASE, str(CHART), "-f", str(VARIANTS["default"]), "--set-string", setting)
    assert result.returncode != 0, f"{setting} was accepted"
    assert "schema" in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize(("settings", "message"), [
    # The app connecting as the owner would not be bound by Row-Level Security.
    (["database.url=postgresql+asyncpg://yishi_owner:x@db/yishi"], "must use different roles"),
    (["secretKey="], "secretKey is required"),
    (["ingress.enabled=true"], "ingress.host is required"),
    (["config.extra.YISHI_ENV=development"], "the chart sets YISHI_ENV itself"),
    (["config.extra.YISHI_MEDIA_URL=s3://b"], "the chart sets YISHI_MEDIA_URL itself"),
    (["objectStorage.enabled=true"], "objectStorage.url is required"),
    (["objectStorage.enabled=true", "objectStorage.url=s3://photos"], "objectStorage.accessKeyId is required"),
])
def test_templates_refuse_unsafe_combinations(settings: list[str], message: str) -> None:
    args = ["template", RELEASE, str(CHART), "-f", str(VARIANTS["default"])]
    for setting in settings:
        args += ["--set", setting]
    result = run_helm(*args)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def test_dockerfile_is_multi_stage_non_root_and_serves_on_8000() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    assert len(stages) >= 2, "multi-stage: a builder and a slim final stage"
    final = instructions[stages[-1]:]
    assert final[0][1].split()[0] == "python:3.11-slim"
    assert any(word == "COPY" and "--from=" in args for word, args in final), "the final stage copies the venv"
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}
    assert user == "10001"  # numeric, so the kubelet can check runAsNonRoot, and the chart's runAsUser
    assert any(word == "EXPOSE" and "8000" in args.split() for word, args in final)
    cmd = [args for word, args in final if word == "CMD"][-1]
    assert yaml.safe_load(cmd) == ["yishi", "serve", "--host", "0.0.0.0", "--port", "8000"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "var"} <= {entry.strip("/") for entry in ignored}

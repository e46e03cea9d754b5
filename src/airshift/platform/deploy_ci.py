"""`airshift deploy ci --github|--gitlab`: the CI/CD teams write by hand to ship DAGs.

On every pull (merge) request: `airshift fix DAGS --check` (no change left to make) and `airshift verify`
(the base branch's DAGs against the request's, loaded in the real source and target Airflow). On merge
to the default branch: ship the DAG folder to the target: a Composer bucket, an MWAA S3 path, or the
branch git-sync follows. Credentials are the CI system's secrets, referenced by name only."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

from airshift.errors import AirshiftError

TARGETS = ("composer", "mwaa", "git-sync")


@dataclass
class CiRequest:
    system: str  # github or gitlab
    target: str  # composer, mwaa or git-sync
    dags: str = "dags"
    destination: str = ""  # gs://bucket/dags, s3://bucket/dags, or the git-sync branch
    branch: str = "main"  # the default branch merges land on
    source_airflow: str = "2.11.2"
    target_airflow: str = "3.3.2"
    airshift_requirement: str = "airshift"
    python: str = "3.12"


def _check_request(request: CiRequest) -> None:
    if request.system not in ("github", "gitlab"):
        raise AirshiftError("choose --github or --gitlab")
    if request.target not in TARGETS:
        raise AirshiftError(f"--ship-to {request.target!r}: choose composer, mwaa or git-sync")
    prefixes = {"composer": "gs://", "mwaa": "s3://"}
    prefix = prefixes.get(request.target)
    if prefix and not request.destination.startswith(prefix):
        raise AirshiftError(
            f"--destination for {request.target} must start with {prefix}, e.g. {prefix}bucket/dags"
        )
    if request.target == "git-sync" and not request.destination:
        raise AirshiftError("--destination for git-sync is the branch git-sync follows, e.g. airflow-dags")


def _check_commands(request: CiRequest, base_ref: str) -> list[str]:
    dags = request.dags
    return [
        f'python -m pip install "{request.airshift_requirement}"',
        f"airshift fix {dags} --check --target {'.'.join(request.target_airflow.split('.')[:2])}",
        f"git fetch --depth 1 origin {base_ref}",
        "git worktree add ../base FETCH_HEAD",
        f"airshift verify ../base/{dags} {dags} --source-airflow {request.source_airflow} "
        f"--target-airflow {request.target_airflow}",
    ]


def _ship_commands(request: CiRequest) -> list[str]:
    dags, destination = request.dags, request.destination.rstrip("/")
    if request.target == "composer":
        return [
            f"gcloud storage rsync --recursive --delete-unmatched-destination-objects {dags} {destination}"
        ]
    if request.target == "mwaa":
        return [f"aws s3 sync {dags} {destination} --delete"]
    return [
        # git-sync follows one branch: publish the merged commit's DAG folder as that branch's tree.
        f"git subtree split --prefix {dags} -b airshift-dags-publish",
        f"git push --force origin airshift-dags-publish:refs/heads/{destination}",
    ]


def github_workflow(request: CiRequest) -> dict[str, Any]:
    _check_request(request)
    paths = [f"{request.dags}/**"]
    checkout = {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    python = {"uses": "actions/setup-python@v5", "with": {"python-version": request.python}}
    check_steps: list[dict[str, Any]] = [dict(checkout), python]
    names = [
        "install airshift",
        "nothing left to fix",
        "fetch the base branch",
        "check out the base branch",
        "verify against the base",
    ]
    commands = _check_commands(request, "${{ github.base_ref }}")
    check_steps += [{"name": name, "run": line} for name, line in zip(names, commands, strict=True)]
    ship_steps: list[dict[str, Any]] = [{"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}]
    permissions = {"contents": "read"}
    if request.target == "composer":
        ship_steps.append(
            {
                "uses": "google-github-actions/auth@v2",
                "with": {"credentials_json": "${{ secrets.GCP_SA_KEY }}"},
            }
        )
        ship_steps.append({"uses": "google-github-actions/setup-gcloud@v2"})
    elif request.target == "mwaa":
        ship_steps.append(
            {
                "uses": "aws-actions/configure-aws-credentials@v4",
                "with": {
                    "aws-access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}",
                    "aws-secret-access-key": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
                    "aws-region": "${{ secrets.AWS_REGION }}",
                },
            }
        )
    else:
        permissions = {"contents": "write"}  # pushes the git-sync branch with the workflow's own token
    for line in _ship_commands(request):
        ship_steps.append({"name": "ship DAGs", "run": line})
    return {
        "name": "airflow DAGs",
        "on": {
            "pull_request": {"paths": paths},
            "push": {"branches": [request.branch], "paths": list(paths)},
        },
        "permissions": permissions,
        "jobs": {
            "check": {
                "if": "github.event_name == 'pull_request'",
                "runs-on": "ubuntu-latest",
                "steps": check_steps,
            },
            "ship": {
                "if": f"github.event_name == 'push' && github.ref == 'refs/heads/{request.branch}'",
                "runs-on": "ubuntu-latest",
                "concurrency": {"group": "ship-dags", "cancel-in-progress": False},
                "steps": ship_steps,
            },
        },
    }


def gitlab_pipeline(request: CiRequest) -> dict[str, Any]:
    _check_request(request)
    changes = [f"{request.dags}/**/*"]
    check = {
        "stage": "check",
        "image": f"python:{request.python}",
        "rules": [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "changes": changes}],
        "script": _check_commands(request, "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
    }
    ship: dict[str, Any] = {
        "stage": "ship",
        "rules": [{"if": f'$CI_COMMIT_BRANCH == "{request.branch}"', "changes": list(changes)}],
        "resource_group": "ship-dags",
    }
    if request.target == "composer":
        ship["image"] = "google/cloud-sdk:slim"
        ship["script"] = [
            'echo "$GCP_SA_KEY" > "$CI_PROJECT_DIR/gcp-key.json"',
            'gcloud auth activate-service-account --key-file "$CI_PROJECT_DIR/gcp-key.json"',
            *_ship_commands(request),
        ]
        ship["after_script"] = ['rm -f "$CI_PROJECT_DIR/gcp-key.json"']
    elif request.target == "mwaa":
        # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION are masked CI/CD variables.
        ship["image"] = {"name": "amazon/aws-cli:latest", "entrypoint": [""]}
        ship["script"] = _ship_commands(request)
    else:
        ship["image"] = "alpine/git:latest"
        ship["script"] = [
            'git remote set-url origin "https://oauth2:${GIT_PUSH_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git"',
            *_ship_commands(request),
        ]
    return {"stages": ["check", "ship"], "check-dags": check, "ship-dags": ship}


def render(data: dict[str, Any], header: str) -> str:
    from airshift.platform.config_helm import yaml_round_trip

    buffer = StringIO()
    buffer.write(header)
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue()


def secrets_needed(request: CiRequest) -> list[str]:
    if request.target == "composer":
        return ["GCP_SA_KEY"]
    if request.target == "mwaa":
        names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        return [*names, "AWS_REGION" if request.system == "github" else "AWS_DEFAULT_REGION"]
    return [] if request.system == "github" else ["GIT_PUSH_TOKEN"]

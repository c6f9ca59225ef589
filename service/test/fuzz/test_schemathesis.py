"""Schemathesis over openapi/openapi.json against a real Node host (the root conftest's, with its token).

Every operation in the document, the compat ones too, gets Schemathesis' explicit examples, its coverage
cases (boundaries, missing and wrongly typed fields, invalid values) and generated cases, positive and
negative, with a fixed seed; then a stateful run follows the links Schemathesis infers (create a sandbox,
then exec, files, update, delete on it). Each response must be documented: no 5xx, a documented status
code, a documented content type, a body matching the documented schema.

Most generated sandbox ids name no sandbox (a 404 is right, but stops there), so path ids are often
swapped for a few sandboxes that exist, and file paths for files and directories that exist in them:
exec and the file routes run on real sandboxes.

Checks: all of Schemathesis' response checks (not_a_server_error, status/content-type/header/schema
conformance) and its contract checks: positive_data_acceptance (valid input must not get a 4xx the
document does not explain), negative_data_rejection (invalid input must not get a 2xx),
unsupported_method (405 with Allow), ignored_auth (the request again without a token must get 401),
missing_required_header, use_after_free and ensure_resource_availability. A 502 or 504 passes only on
the operations whose responses document it; the stateful phase must run to its end; every operation
must answer 2xx at least once.

Seeds: the cases run with a fixed seed (SANDGATE_FUZZ_SEED) and again, generated cases only, with a
random one printed at the start and in the summary (replay it with SANDGATE_FUZZ_RANDOM_SEED=<seed>).

Figures: the last test prints `fuzz: <cases> cases, <failures> failures` (distinct failures: one per
operation and kind) and the responses per operation. A larger run: SANDGATE_FUZZ_EXAMPLES=<generated
cases per operation> (default 25) and SANDGATE_FUZZ_SEED=<seed>, e.g.
`SANDGATE_FUZZ_EXAMPLES=300 .venv/bin/python -m pytest service/test/fuzz` (about 6 minutes, 8,000 cases).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.case import load_all_checks

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = int(os.environ.get("SANDGATE_FUZZ_EXAMPLES") or 25)
SEED = int(os.environ.get("SANDGATE_FUZZ_SEED") or 20261122)
# A new seed every run finds what the fixed one cannot; it is printed so a failure can be replayed.
RANDOM_SEED = int(os.environ.get("SANDGATE_FUZZ_RANDOM_SEED") or random.SystemRandom().randrange(2**32))
RANDOM_EXAMPLES = max(EXAMPLES // 3, 5)
print(f"\nfuzz: seeds {SEED} (fixed) and {RANDOM_SEED} (random: SANDGATE_FUZZ_RANDOM_SEED={RANDOM_SEED} replays it)")
# The CI run must generate at least this many cases; the larger runs many more.
MIN_CASES = 1000
REQUEST_TIMEOUT = 30

DOCUMENT = json.loads((ROOT / "openapi" / "openapi.json").read_text())

# Answers a gateway gives by design, not server errors: a wait that ran out (504 `timeout`), a port or
# git remote that cannot be reached (502 `upstream_unavailable`). They pass not_a_server_error only on
# the operations whose responses document them (Schemathesis' per-operation expected statuses).
GATEWAY_STATUSES = ("502", "504")
# What the document cannot say in a schema and says in words instead, with the status it gets (400):
# a cursor this host did not issue, an offset past the end of a log, a pattern that does not compile,
# a path naming the wrong kind of file (a directory to read), a working directory that is not there,
# bytes that are not a tar archive.
DATA_DEPENDENT_400 = {
    "listSandboxes",
    "listSnapshots",
    "importSnapshot",
    "getProcessLogs",
    "streamProcessLogs",
    "waitForLog",
    "exec",
    "execStream",
    "startProcess",
    "readFile",
    "writeFile",
    "readFileJson",
    "writeFileJson",
    "listFiles",
    "statFile",
    "mkdir",
    "moveFile",
    "deleteFile",
    "gitCheckout",
    "createSandbox",
    "compatDownload",
    "compatUpload",
}


def _operation_configs() -> list[dict[str, Any]]:
    configs: list[dict[str, Any]] = []
    for methods in DOCUMENT["paths"].values():
        for operation in methods.values():
            op_id = operation.get("operationId")
            if not op_id:
                continue
            checks: dict[str, Any] = {}
            gateway = [s for s in GATEWAY_STATUSES if s in operation.get("responses", {})]
            if gateway:
                checks["not_a_server_error"] = {"expected-statuses": ["2xx", "3xx", "4xx", *gateway]}
            if op_id in DATA_DEPENDENT_400:
                checks["positive_data_acceptance"] = {
                    "expected-statuses": [
                        "2xx",
                        "3xx",
                        "400",
                        "401",
                        "403",
                        "404",
                        "409",
                        "429",
                        "5xx",
                    ]
                }
            if checks:
                configs.append({"include-operation-id": op_id, "checks": checks})
    return configs


# Every response check and contract check Schemathesis has (`--checks all`), except max_response_time
# (timing is not a contract) and object_level_authorization (needs two principals per resource).
load_all_checks()
CHECKS = [
    c for c in REGISTERED_CHECKS.get_all() if c.__name__ not in ("max_response_time", "object_level_authorization")
]
WANTED_CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
    "missing_required_header",
    "use_after_free",
    "ensure_resource_availability",
}
# The registry fills as Schemathesis' modules load: fail loudly if one of these is not in it.
assert WANTED_CHECKS <= {c.__name__ for c in CHECKS}, sorted(WANTED_CHECKS - {c.__name__ for c in CHECKS})

# Sandboxes that exist for the whole run (recreated when a case deletes or shortens one), and what is in them.
KNOWN_IDS = ("fuzz-known-a", "fuzz-known-b")
KNOWN_PATHS = ("hello.txt", "/workspace/dir", "dir/nested.bin", "/workspace", "link")
ID_KEYS = ("id", "sandbox_id")
PROCESS_KEYS = ("processId", "process_id")
# A background process in each known sandbox (recreated with it), for the process routes. It ends at
# once: following a running process's log never ends, which would hold a case until its timeout.
KNOWN_PROCESSES: dict[str, str] = {}
# A process that serves a port for as long as its sandbox lives (waitForPort's 2xx); never a known
# process id for generated cases, whose log streams would then never end.
SERVER_PROCESSES: dict[str, str] = {}
KNOWN_PROCESS_COMMAND = "echo ready; echo to-stderr >&2"
# A snapshot of the first known sandbox, kept for the run (remade when a case deletes it).
KNOWN_SNAPSHOTS: list[str] = []
SNAPSHOT_KEYS = ("snapshotId",)
PATH_KEYS = ("path", "from", "to", "file_path", "cwd")
# Commands for exec bodies that name neither `command` nor `argv` (generated bodies often do).
KNOWN_COMMANDS = (
    "echo hello && ls -la",
    "cat hello.txt dir/nested.bin",
    "printf 'caf\\303\\251 \\377\\n'; echo to-stderr >&2; exit 3",
    'echo "$GREETING"; env | sort | head -5',
    "cat",
)
# Operations after which a known sandbox may be gone or about to expire.
RESETTING = {
    "restoreSnapshot",
    "deleteSandbox",
    "updateSandbox",
    "compatKill",
    "compatUpdate",
    "compatGet",
    "compatExec",
    "deleteFile",
    "moveFile",
    "killProcess",
}
CREATING = {"createSandbox", "compatCreate"}
SNAPSHOT_CREATING = {"createSnapshot", "importSnapshot"}


def _small_tar() -> bytes:
    """A valid archive for importSnapshot's 2xx: generated bytes are almost never a tar."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        data = b"imported by the fuzz run\n"
        info = tarfile.TarInfo("imported.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


SMALL_TAR = _small_tar()


def _load(seed: int, examples: int, phases: list[str] | None = None) -> Any:
    config: dict[str, Any] = {
        "seed": seed,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"max-examples": examples, "database": "none", "mode": "all"},
        "request-timeout": REQUEST_TIMEOUT,
        "cache": {"enabled": False},
        # Positive-data acceptance: a 5xx is not_a_server_error's to judge; 404/409 name state, not shape.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": [
                    "2xx",
                    "3xx",
                    "401",
                    "403",
                    "404",
                    "409",
                    "429",
                    "5xx",
                ]
            }
        },
        "operations": _operation_configs(),
    }
    if phases is not None:
        config["phases"] = {
            name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")
        }
    return schemathesis.openapi.from_path(
        ROOT / "openapi" / "openapi.json", config=schemathesis.Config.from_dict(config)
    )


schema = _load(SEED, EXAMPLES)
# The same operations, generated cases only, on this run's random seed.
schema_random = _load(RANDOM_SEED, RANDOM_EXAMPLES, phases=["fuzzing"])


@dataclass
class Stats:
    cases: int = 0
    # operation -> status class ("2xx", "4xx", ...) -> responses
    by_operation: dict[str, dict[str, int]] = field(default_factory=dict)
    # (operation, failure code, title) -> the first case that showed it
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    failing_cases: int = 0
    stateful_steps: int = 0
    # documented 502/504 answers (see GATEWAY_STATUSES), by status
    gateway_answers: dict[int, int] = field(default_factory=dict)
    # operation -> seconds spent on its cases
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(
        self,
        label: str,
        status: int | None,
        failures: list[Failure] | None = None,
        error: BaseException | None = None,
        repro: str = "",
    ) -> None:
        self.cases += 1
        if status is not None and status in (502, 504):
            self.gateway_answers[status] = self.gateway_answers.get(status, 0) + 1
        counts = self.by_operation.setdefault(label, {})
        kind = f"{status // 100}xx" if status else "no response"
        counts[kind] = counts.get(kind, 0) + 1
        found: list[tuple[tuple[str, str, str], str]] = []
        for f in failures or []:
            found.append(((label, f.code, f.title), f"{f.title}: {f.message}"))
        if error is not None:
            found.append(
                (
                    (label, "error", type(error).__name__),
                    f"{type(error).__name__}: {error}",
                )
            )
        if found:
            self.failing_cases += 1
        for key, message in found:
            self.failures.setdefault(key, f"{message}\n  reproduce: {repro}")


STATS = Stats()


# -----------------------------------------------------------------------------------------------
# known sandboxes and files


class Host:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(
            method,
            self.url + path,
            headers=self.headers,
            timeout=REQUEST_TIMEOUT,
            **kwargs,
        )

    def ensure_known(self, sandbox_id: str) -> None:
        """The sandbox exists, expires in an hour, and holds the known files."""
        res = self.request("PATCH", f"/v1/sandboxes/{sandbox_id}", json={"ttlSeconds": 3600})
        if res.status_code == 404:
            res = self.request(
                "POST",
                "/v1/sandboxes",
                json={"id": sandbox_id, "labels": {"fuzz": "known"}},
            )
            assert res.status_code in (201, 409), res.text
        else:
            assert res.status_code == 200, res.text
        res = self.request(
            "POST",
            f"/v1/sandboxes/{sandbox_id}/exec",
            json={
                # From scratch: moves may have left anything under these names (a link to itself, say).
                "command": "rm -rf hello.txt dir link moved.txt clone made && mkdir dir && echo hello > hello.txt"
                " && head -c 300 /dev/urandom > dir/nested.bin && ln -s hello.txt link"
                # a repository to clone (gitCheckout's 2xx), made once
                " && { [ -d src-repo/.git ] || { git init -q src-repo && git -C src-repo -c user.email=f@x -c user.name=fuzz"
                " commit -q --allow-empty -m init; }; }",
                "timeoutMs": 10_000,
            },
        )
        assert res.status_code == 200 and res.json()["exitCode"] == 0, res.text
        known = KNOWN_PROCESSES.get(sandbox_id)
        if known is None or self.request("GET", f"/v1/sandboxes/{sandbox_id}/processes/{known}").status_code != 200:
            res = self.request(
                "POST",
                f"/v1/sandboxes/{sandbox_id}/processes",
                json={"command": KNOWN_PROCESS_COMMAND},
            )
            assert res.status_code == 201, res.text
            KNOWN_PROCESSES[sandbox_id] = res.json()["id"]
        server = SERVER_PROCESSES.get(sandbox_id)
        if (
            server is None
            or self.request("GET", f"/v1/sandboxes/{sandbox_id}/processes/{server}").json().get("status") != "running"
        ):
            res = self.request(
                "POST",
                f"/v1/sandboxes/{sandbox_id}/processes",
                json={
                    "argv": [
                        "python3",
                        "-m",
                        "http.server",
                        str(SERVED_PORT),
                        "--bind",
                        "127.0.0.1",
                    ],
                    "cwd": "/tmp",
                },
            )
            assert res.status_code == 201, res.text
            SERVER_PROCESSES[sandbox_id] = res.json()["id"]

    def delete(self, sandbox_id: str) -> None:
        self.request("DELETE", f"/v1/sandboxes/{sandbox_id}")

    def ensure_snapshot(self) -> None:
        """A snapshot of the first known sandbox exists (for get, archive, restore and delete)."""
        if KNOWN_SNAPSHOTS and self.request("GET", f"/v1/snapshots/{KNOWN_SNAPSHOTS[0]}").status_code == 200:
            return
        res = self.request("POST", f"/v1/sandboxes/{KNOWN_IDS[0]}/snapshots", json={"name": "fuzz-known"})
        assert res.status_code == 201, res.text
        KNOWN_SNAPSHOTS[:] = [res.json()["id"]]


@pytest.fixture(scope="module")
def host(sandgate_url: str, sandgate_token: str) -> Iterator[Host]:
    h = Host(sandgate_url, sandgate_token)
    for sandbox_id in KNOWN_IDS:
        h.ensure_known(sandbox_id)
    h.ensure_snapshot()
    yield h
    for snapshot_id in KNOWN_SNAPSHOTS:
        h.request("DELETE", f"/v1/snapshots/{snapshot_id}")
    for sandbox_id in KNOWN_IDS:
        h.delete(sandbox_id)
    h.session.close()


@schemathesis.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> st.SearchStrategy:
    """Two cases in three address a sandbox that exists; the rest keep the generated id."""
    snapshot_keys = [k for k in SNAPSHOT_KEYS if k in (path_parameters or {})]
    if snapshot_keys and KNOWN_SNAPSHOTS:
        known_snapshot = {**path_parameters, **{k: KNOWN_SNAPSHOTS[0] for k in snapshot_keys}}
        return st.one_of(st.just(path_parameters), st.just(known_snapshot), st.just(known_snapshot))
    keys = [k for k in ID_KEYS if k in (path_parameters or {})]
    if not keys:
        return st.just(path_parameters)
    process_keys = [k for k in PROCESS_KEYS if k in path_parameters]

    def with_known(sandbox_id: str) -> dict[str, Any]:
        known = {**path_parameters, **{k: sandbox_id for k in keys}}
        if process_keys and sandbox_id in KNOWN_PROCESSES:
            known.update({k: KNOWN_PROCESSES[sandbox_id] for k in process_keys})
        return known

    known = st.sampled_from(KNOWN_IDS).map(with_known)
    return st.one_of(st.just(path_parameters), known, known)


def _with_known_paths(values: Any) -> st.SearchStrategy:
    if not isinstance(values, dict) or not any(k in values for k in PATH_KEYS):
        return st.just(values)
    swapped = st.fixed_dictionaries({k: st.sampled_from(KNOWN_PATHS) for k in PATH_KEYS if k in values}).map(
        lambda paths: {**values, **paths}
    )
    return st.one_of(st.just(values), swapped)


@schemathesis.hook
def flatmap_query(context: schemathesis.HookContext, query: dict[str, Any]) -> st.SearchStrategy:
    """Half of the file paths in query strings name something that exists."""
    return _with_known_paths(query)


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy:
    """Half of the file paths in JSON bodies name something that exists; exec bodies get a command."""
    if (
        operation_id(context.operation) in ("exec", "execStream", "startProcess")
        and isinstance(body, dict)
        and "command" not in body
        and "argv" not in body
    ):
        return st.one_of(
            st.just(body),
            st.sampled_from(KNOWN_COMMANDS).map(lambda c: {**body, "command": c}),
        )
    if operation_id(context.operation) == "importSnapshot":
        return st.one_of(st.just(body), st.just(SMALL_TAR))
    if operation_id(context.operation) == "restoreSnapshot" and isinstance(body, dict) and KNOWN_SNAPSHOTS:
        return st.one_of(st.just(body), st.just({**body, "snapshotId": KNOWN_SNAPSHOTS[0]}))
    # Their `path` is a URL path in the sandbox's app, not a file: a file name there would be invalid.
    if operation_id(context.operation) in ("waitForPort", "createPortLink"):
        return st.just(body)
    return _with_known_paths(body)


# Valid remote URLs would send git to hosts that may never answer (a connect can take minutes): a
# generated URL that is valid is swapped for a local one that does not exist. Invalid ones stay.
REMOTE_URL = re.compile(r"^(?:(?:https?|ssh|git)://|[A-Za-z0-9._-]+@)")
LOCAL_MISSING_URL = "file:///workspace/fuzz-missing.git"
WAIT_MS = 300


def _local_git(git: Any) -> Any:
    if isinstance(git, dict) and isinstance(git.get("url"), str) and REMOTE_URL.match(git["url"]):
        return {**git, "url": LOCAL_MISSING_URL}
    return git


@schemathesis.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    """Commands end within 5 s and waits within 300 ms: generated text is rarely a command that waits, but it could be one."""
    op = operation_id(context.operation)
    if not isinstance(body, dict):
        return body
    if op in ("exec", "execStream"):
        timeout = body.get("timeoutMs", 5000)
        if is_number(timeout) and timeout > 5000 or "timeoutMs" not in body:
            return {**body, "timeoutMs": 5000}
    if op in ("waitForPort", "waitForLog"):
        timeout = body.get("timeoutMs", WAIT_MS)
        if is_number(timeout) and timeout > WAIT_MS or "timeoutMs" not in body:
            return {**body, "timeoutMs": WAIT_MS}
    if op == "gitCheckout":
        return _local_git(body)
    if op == "forkSandbox":
        return _small_fork(body)
    if op == "createSandbox" and "git" in body:
        return {**body, "git": _local_git(body["git"])}
    return body


def _small_fork(body: dict[str, Any]) -> dict[str, Any]:
    """Valid forks make at most 2 sandboxes (forks of up to 100 would each be a minute's work); an
    invalid count stays as it is, so a negative case stays negative."""
    count = body.get("count")
    if is_number(count) and count == int(count) and 2 < count <= 100:
        return {**body, "count": 2}
    return body


def is_number(value: Any) -> bool:
    """Ints and floats (JSON's 110323.0 is an integer to the host), never bools."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def operation_id(operation: schemathesis.APIOperation | None) -> str:
    return str(operation.definition.raw.get("operationId", "")) if operation is not None else ""


# -----------------------------------------------------------------------------------------------
# one case


def run_case(host: Host, case: schemathesis.Case) -> None:
    label = case.operation.label
    started = time.monotonic()
    try:
        call_and_check(host, case)
    finally:
        STATS.seconds[label] = STATS.seconds.get(label, 0.0) + time.monotonic() - started


def call_and_check(host: Host, case: schemathesis.Case) -> None:
    label = case.operation.label
    # The explicit and coverage phases do not pass through map_body: their git URLs are swapped here.
    op = operation_id(case.operation)
    if op == "gitCheckout":
        case.body = _local_git(case.body)
    elif op == "createSandbox" and isinstance(case.body, dict) and "git" in case.body:
        case.body = {**case.body, "git": _local_git(case.body["git"])}
    elif op == "forkSandbox" and isinstance(case.body, dict):
        case.body = _small_fork(case.body)
    repro = ""
    try:
        repro = case.as_curl_command(base_url=host.url)
        response = case.call(base_url=host.url, headers=host.headers, timeout=REQUEST_TIMEOUT)
    except requests.RequestException as exc:
        STATS.record(label, None, error=exc, repro=repro)
        return
    validate(case, response, host, repro)
    after_case(host, case, response)


def replaced_by_caller(case: schemathesis.Case) -> bool:
    """Whether this test swapped part of the case for a known value (an id, a path, a command) or for
    its own credentials: a negative case may then no longer hold what made it invalid."""
    params = case.path_parameters or {}
    if any(v in KNOWN_IDS or v in KNOWN_PROCESSES.values() or v in KNOWN_SNAPSHOTS for v in params.values()):
        return True
    if case.body == SMALL_TAR or isinstance(case.body, dict) and case.body.get("snapshotId") in KNOWN_SNAPSHOTS:
        return True
    if any(k.lower() in ("authorization", "x-sandgate-token") for k in (case.headers or {})):
        return True
    for values in (case.query, case.body):
        if isinstance(values, dict) and any(
            v in KNOWN_PATHS or v in KNOWN_COMMANDS for v in values.values() if isinstance(v, str)
        ):
            return True
    return False


def validate(case: schemathesis.Case, response: Any, host: Host, repro: str) -> None:
    label = case.operation.label
    checks = CHECKS
    if case.meta is not None and case.meta.generation.mode.is_negative and replaced_by_caller(case):
        checks = [c for c in CHECKS if c.__name__ != "negative_data_rejection"]
    try:
        case.validate_response(response, checks=checks, headers=host.headers)
    except FailureGroup as group:
        STATS.record(label, response.status_code, failures=list(group.exceptions), repro=repro)
    except Failure as failure:
        STATS.record(label, response.status_code, failures=[failure], repro=repro)
    else:
        STATS.record(label, response.status_code)


def after_case(host: Host, case: schemathesis.Case, response: Any) -> None:
    """Keeps the host tidy and the known sandboxes alive."""
    op = operation_id(case.operation)
    if op in CREATING and 200 <= response.status_code < 300:
        created = response.json()
        created_id = created.get("id") or created.get("sandbox_id")
        if created_id and created_id not in KNOWN_IDS:
            host.delete(created_id)
    if op in SNAPSHOT_CREATING and 200 <= response.status_code < 300:
        host.request("DELETE", f"/v1/snapshots/{response.json()['id']}")
    if op == "forkSandbox" and 200 <= response.status_code < 300:
        forked = response.json()
        for sandbox in forked.get("sandboxes", []):
            host.delete(sandbox["id"])
        if forked.get("snapshot"):
            host.request("DELETE", f"/v1/snapshots/{forked['snapshot']['id']}")
    if op == "updateSnapshot" and (case.path_parameters or {}).get("snapshotId") in KNOWN_SNAPSHOTS:
        host.request("PATCH", f"/v1/snapshots/{KNOWN_SNAPSHOTS[0]}", json={"ttlSeconds": None})
    if op == "deleteSnapshot" and (case.path_parameters or {}).get("snapshotId") in KNOWN_SNAPSHOTS:
        host.ensure_snapshot()
    params = case.path_parameters or {}
    for key in ID_KEYS:
        if params.get(key) in KNOWN_IDS and op in RESETTING:
            host.ensure_known(params[key])


@schema.parametrize()
def test_operation(case: schemathesis.Case, host: Host) -> None:
    run_case(host, case)


@schema_random.parametrize()
def test_operation_random_seed(case: schemathesis.Case, host: Host) -> None:
    run_case(host, case)


# -----------------------------------------------------------------------------------------------
# stateful: sequences along the links Schemathesis infers (create -> get/exec/files/update/delete)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    host: Host

    def setup(self) -> None:
        self.created: list[str] = []

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {
            "base_url": self.host.url,
            "headers": self.host.headers,
            "timeout": REQUEST_TIMEOUT,
        }

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        if operation_id(case.operation) in CREATING and 200 <= response.status_code < 300:
            created = response.json()
            self.created.append(created.get("id") or created.get("sandbox_id"))

    def validate_response(
        self,
        response: Any,
        case: schemathesis.Case,
        additional_checks: Any = None,
        **kwargs: Any,
    ) -> None:
        STATS.stateful_steps += 1
        validate(case, response, self.host, case.as_curl_command(base_url=self.host.url))

    def teardown(self) -> None:
        for sandbox_id in self.created:
            if sandbox_id not in KNOWN_IDS:
                self.host.delete(sandbox_id)


def test_stateful(host: Host) -> None:
    Workflow.host = host
    try:
        Workflow.run(
            settings=hypothesis.settings(
                max_examples=max(EXAMPLES // 2, 10),
                stateful_step_count=6,
                deadline=None,
                database=None,
                # Deterministic: Hypothesis derives the seed from the test (SANDGATE_FUZZ_SEED varies the rest).
                derandomize=True,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
        )
    except FlakyStrategyDefinition as exc:
        # Sequences that draw differently on replay stop the stateful phase before its end: the rest of
        # it never ran, so the run fails rather than pass on part of it.
        STATS.record("stateful", None, error=exc, repro=f"SANDGATE_FUZZ_SEED={SEED}")
        STATS.notes.append("stateful: stopped early (a sequence drew differently when replayed)")


# -----------------------------------------------------------------------------------------------
# the figures


# One request per operation that must succeed on a known sandbox, through the same checks: generated
# input rarely names a file to move, a line a process printed or a port something listens on, and
# each operation must be seen answering 2xx at least once.
SERVED_PORT = 8765


def known_good(op_id: str, sandbox_id: str) -> dict[str, Any]:
    process = KNOWN_PROCESSES[sandbox_id]
    server = SERVER_PROCESSES[sandbox_id]
    return {
        "moveFile": {"body": {"from": "hello.txt", "to": "moved.txt", "overwrite": True}},
        "readFileJson": {"body": {"path": "hello.txt"}},
        "writeFileJson": {"body": {"path": "written.bin", "content": "aGk=", "encoding": "base64"}},
        "createToken": {"body": {"sandboxId": sandbox_id, "scopes": ["exec", "files:read"]}},
        "waitForLog": {
            "path_parameters": {"id": sandbox_id, "processId": process},
            "body": {"pattern": "^ready$", "timeoutMs": 5000},
        },
        "waitForPort": {
            "path_parameters": {"id": sandbox_id, "processId": server},
            "body": {"port": SERVED_PORT, "timeoutMs": 10_000},
        },
        "gitCheckout": {"body": {"url": "file:///workspace/src-repo", "dir": "clone"}},
        "mkdir": {"body": {"path": "made/deep", "recursive": True}},
        "deleteFile": {"query": {"path": "hello.txt"}},
        "readFile": {"query": {"path": "hello.txt"}},
        "compatDownload": {
            "path_parameters": {"sandbox_id": sandbox_id},
            "body": {"file_path": "hello.txt"},
        },
    }.get(op_id, {})


def test_every_operation_succeeds_once(host: Host) -> None:
    sandbox_id = KNOWN_IDS[0]
    for operation in schema.get_all_operations():
        operation = operation.ok()
        op_id = operation_id(operation)
        if (
            any(k.startswith("2") for k in STATS.by_operation.get(operation.label, {}))
            or op_id not in KNOWN_GOOD_OPERATIONS
        ):
            continue
        host.ensure_known(sandbox_id)
        kwargs = known_good(op_id, sandbox_id)
        kwargs.setdefault("path_parameters", {"id": sandbox_id})
        run_case(host, operation.Case(**kwargs))


KNOWN_GOOD_OPERATIONS = {
    "moveFile",
    "readFileJson",
    "writeFileJson",
    "createToken",
    "waitForLog",
    "waitForPort",
    "gitCheckout",
    "mkdir",
    "deleteFile",
    "readFile",
    "compatDownload",
}


def test_summary(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    # The host still answers after all of it.
    assert host.request("GET", "/health").status_code == 200
    untested = [op.ok().label for op in schema.get_all_operations() if op.ok().label not in STATS.by_operation]
    never_2xx = [
        op.ok().label
        for op in schema.get_all_operations()
        if not any(kind == "2xx" for kind in STATS.by_operation.get(op.ok().label, {}))
    ]
    with capsys.disabled():
        print(f"\nfuzz: {STATS.cases} cases, {len(STATS.failures)} failures")
        gateway = ", ".join(f"{n}x {code}" for code, n in sorted(STATS.gateway_answers.items())) or "none"
        print(f"  documented gateway answers (502/504 where the operation documents them): {gateway}")
        print(
            f"  seeds {SEED} (fixed, {EXAMPLES} generated cases per operation) and {RANDOM_SEED} (random, {RANDOM_EXAMPLES} per operation;"
            f" replay: SANDGATE_FUZZ_RANDOM_SEED={RANDOM_SEED}), {STATS.stateful_steps} of the cases in stateful sequences"
        )
        for label, counts in sorted(STATS.by_operation.items(), key=lambda kv: kv[0].split(" ", 1)[::-1]):
            print(f"  {label:48} " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
        slowest = sorted(STATS.seconds.items(), key=lambda kv: -kv[1])[:3]
        print("  slowest: " + ", ".join(f"{label} {seconds:.0f} s" for label, seconds in slowest))
        for note in STATS.notes:
            print(f"  {note}")
        for (label, code, title), detail in sorted(STATS.failures.items()):
            print(f"  {label} [{code}] {title}\n    {detail[:2000]}")
    if STATS.failures:
        pytest.fail(f"{len(STATS.failures)} distinct failures (listed above)", pytrace=False)
    if untested:
        pytest.fail(f"operations never exercised: {untested}", pytrace=False)
    if never_2xx:
        pytest.fail(f"operations that never answered 2xx: {never_2xx}", pytrace=False)
    if STATS.cases < MIN_CASES:
        pytest.fail(
            f"only {STATS.cases} cases generated (at least {MIN_CASES} wanted)",
            pytrace=False,
        )

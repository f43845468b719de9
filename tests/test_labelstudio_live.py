"""The Label Studio export imported by Label Studio itself: a local server from PyPI's
`label-studio`, a project made with `ieclid export --config`, the tasks imported through its
API and read back. Slow (the server starts in about a minute); runs where IECLID_LABEL_STUDIO
names a `label-studio` executable (.ci/run installs one in a virtual environment of its own,
its dependencies being many and pinned)."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
from test_exchange import reviewed_record

from ieclid.exchange.files import export_records, import_records
from ieclid.exchange.labelstudio import labeling_config

EXECUTABLE = os.environ.get("IECLID_LABEL_STUDIO", "")
EMAIL, TOKEN = "reviewer@example.org", "ieclid-test-token-0123456789"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(EXECUTABLE).is_file(), reason="set IECLID_LABEL_STUDIO to a label-studio executable"),
]


def api(port: int, path: str, body: object = None, method: str | None = None) -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method or ("POST" if body is not None else "GET"),
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def test_label_studio_imports_the_tasks_with_predictions_and_annotations(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "ls-data"
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "DJANGO_DB": "sqlite"}
    common = ["--data-dir", str(data)]
    server = subprocess.Popen(
        [EXECUTABLE, "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port), *common,
         "--username", EMAIL, "--password", "not-a-secret-1", "--user-token", TOKEN],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "Label Studio did not start"
                time.sleep(2)
        # Label Studio 1.20+ turns the token given at start off (personal access tokens instead);
        # a test instance turns it back on, as its settings page would.
        subprocess.run([EXECUTABLE, "shell", *common], env=env, capture_output=True, timeout=300, check=True,
                       input=b"from jwt_auth.models import JWTSettings\n"
                             b"JWTSettings.objects.update(legacy_api_tokens_enabled=True)\n")
        record = reviewed_record()
        record["entities"][1]["label"] = "person"  # relabelled by the reviewer
        project = api(port, "/api/projects", {"title": "ieclid", "label_config": labeling_config([record])})
        export_records("labelstudio", [record], str(tmp_path / "tasks.json"), user=EMAIL)
        tasks = orjson.loads((tmp_path / "tasks.json").read_bytes())
        imported = api(port, f"/api/projects/{project['id']}/import", tasks)
        assert imported["task_count"] == 1 and imported["annotation_count"] == 1, imported
        exported = api(port, f"/api/projects/{project['id']}/export?exportType=JSON")
        (task,) = exported

        def spans(result):
            return sorted((r["value"]["text"], r["value"]["labels"][0]) for r in result if r["type"] == "labels")

        (annotation,) = task["annotations"]
        assert spans(annotation["result"]) == [("Ann Lee", "person"), ("Bob Stone", "person"),
                                               ("Paris", "location")]
        assert annotation["completed_by"] == api(port, "/api/current-user/whoami")["id"]  # the reviewer
        (prediction_id,) = task["predictions"]  # the export lists predictions by id
        prediction = api(port, f"/api/predictions/{prediction_id}")
        assert spans(prediction["result"]) == [("Ann Lee", "person"), ("Bob Stone", "location"),
                                               ("Paris", "person")]
        assert prediction["model_version"] == "m"
        # and back into ieclid: the reviewed annotation, with its relation
        (tmp_path / "export.json").write_bytes(orjson.dumps(exported))
        (back,) = import_records("labelstudio", str(tmp_path / "export.json"))
        assert sorted((e["text"], e["label"]) for e in back["entities"]) == spans(annotation["result"])
        assert [r["label"] for r in back["relations"]] == ["met"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

"""Trust rule 8: the webhook URL with its token is a secret, kept in the keyring like the
SMTP password; the settings file (which a backup or a support bundle may copy) and the
command's output show only its scheme and host."""

from __future__ import annotations

import http.server
import json
import threading

import pytest


class _Hook(http.server.BaseHTTPRequestHandler):
    paths: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).paths.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    _Hook.paths = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/T0KEN-s3cret?key=also-s3cret", _Hook.paths
    server.shutdown()
    server.server_close()


def test_the_webhook_url_lives_in_the_keyring_not_in_the_settings(cli, workspace_dir, hook, isolated):
    url, paths = hook
    code, out, err = cli("notify", "--webhook", url, "--json")
    assert code == 0, err
    settings = (workspace_dir / "settings.json").read_text()
    assert "s3cret" not in settings and "s3cret" not in out
    assert json.loads(out)["webhook_url"].startswith("http://127.0.0.1:")
    assert url in isolated.store.values()  # the in-memory keyring of the test
    code, out, err = cli("notify", "--test")
    assert code == 0, err
    assert paths == ["/hooks/T0KEN-s3cret?key=also-s3cret"]  # the whole URL was used
    assert cli("notify", "--webhook", "")[0] == 0
    assert url not in isolated.store.values()


def test_an_older_workspace_has_its_webhook_url_moved_out_of_the_settings(cli, workspace_dir, hook, isolated):
    url, paths = hook
    assert cli("notify")[0] == 0  # creates the workspace
    data = json.loads((workspace_dir / "settings.json").read_text())
    data["webhook_url"] = url  # as written before this rule
    (workspace_dir / "settings.json").write_text(json.dumps(data))
    code, out, err = cli("notify")
    assert code == 0, err
    assert "s3cret" not in (workspace_dir / "settings.json").read_text() and "s3cret" not in out
    assert cli("notify", "--test")[0] == 0 and len(paths) == 1

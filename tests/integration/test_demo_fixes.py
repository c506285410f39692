"""The demo personas respond to fixes, so `techdesk gui --demo` shows the whole flow."""

from __future__ import annotations

import asyncio
import os

import pytest

from techdesk.demo.workspace import DemoEnvironment
from techdesk.services.context import Services
from techdesk.workspace import Workspace

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the demo server runs /bin/sh")


@pytest.fixture
def services(tmp_path):
    env = DemoEnvironment.create(tmp_path / "ws")
    svc = Services(Workspace(env.workspace_path))
    yield svc
    svc.close()
    env.close()


def _fix(svc, host, check, fix):
    plan = svc.fixes.plan([svc.roster.get(host)], check, fix, "linux-health")
    return plan, asyncio.run(svc.fixes.apply(plan))[0]


def test_web_server_failed_nginx_can_be_restarted(services):
    plan, outcome = _fix(services, "acme-web01", "failed_units", "restart-unit")
    assert outcome.before.status == "warn" and "nginx.service" in outcome.before.summary
    assert outcome.action.error is None, outcome.action.error
    assert outcome.after.status.value == "ok", outcome.after.summary
    assert outcome.line == "acme-web01: WARNING → OK, nginx.service restarted"


def test_file_server_srv_can_be_cleaned(services):
    plan, outcome = _fix(services, "acme-fs01", "disk", "clean-temp")
    assert outcome.before.status == "crit" and "/srv" in outcome.before.summary
    assert outcome.action.error is None, outcome.action.error
    assert "6 files older than 10 days removed" in outcome.action.output
    assert outcome.after.status.value == "ok", outcome.after.summary

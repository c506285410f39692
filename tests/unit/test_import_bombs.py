"""Import bombs are refused before they cost anything: Ansible ranges are counted
before they are expanded, YAML aliases are limited, files must be regular and of a
sane size. Each refusal is one line naming the file and line."""

from __future__ import annotations

import os
import time
import tracemalloc

import pytest

from techdesk.roster_io import RosterFormatError, parse_ansible, parse_file


def refused(fn, *args):
    """Refused with one line; (message, seconds, peak bytes). Bounds are loose: the point
    is "at once" against "never ends", on a loaded machine (tracemalloc slows it too)."""
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(RosterFormatError) as info:
            fn(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    took = time.monotonic() - t0
    assert "\n" not in str(info.value)
    return str(info.value), took, peak


@pytest.mark.timeout(30)
@pytest.mark.parametrize("line", [
    "web[1:9999999999]", "web[1:2000000]", "web[0000001:9999999]", "a[1:200]b[1:200]",
    "web[1:" + "9" * 5000 + "]",
])
def test_huge_ansible_range_is_refused_before_expansion(line):
    message, took, peak = refused(parse_ansible, f"# inventory\n[web]\n{line} ansible_user=x\n",
                                  "inv.ini")
    assert message.startswith("inv.ini:3: bad host range") and "too many hosts" in message
    assert took < 20 and peak < 2_000_000, (took, peak)


def test_many_ranges_together_are_capped():
    lines = "\n".join(f"g{i}-[1:9000]" for i in range(7))  # 63,000 hosts in all
    message, took, _ = refused(parse_ansible, f"[all]\n{lines}\n", "inv.ini")
    assert message.startswith("inv.ini:") and "more than 50000 hosts" in message


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0", "  hosts: {h0: }"]
    for n in range(1, levels + 1):
        kids = ", ".join(f"k{i}: *l{n - 1}" for i in range(width))
        lines += [f"l{n}: &l{n}", f"  children: {{{kids}}}"]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(30)
def test_yaml_alias_bomb_is_refused_quickly():
    message, took, peak = refused(parse_ansible, _laughs(), "inv.yml")
    assert message.startswith("inv.yml:") and "alias bomb" in message
    assert took < 20 and peak < 50_000_000, (took, peak)  # before: exponential, never ended


@pytest.mark.timeout(30)
def test_too_many_yaml_aliases_are_refused():
    refs = "\n".join(f"  h{i}: *v" for i in range(1500))
    text = f"x: &v {{ansible_user: u}}\nall:\n  hosts:\n{refs}\n"
    message, took, _ = refused(parse_ansible, text, "inv.yml")
    assert message.startswith("inv.yml:1004:") and "more than 1000 YAML aliases" in message
    assert took < 20


def test_a_few_aliases_still_work():
    text = ("all:\n  vars: &common\n    ansible_user: ops\n  children:\n"
            "    web:\n      hosts: {web1: , web2: }\n      vars: *common\n")
    assert {h.name for h in parse_ansible(text, "inv.yml")} == {"web1", "web2"}


@pytest.mark.timeout(30)
def test_fifo_and_huge_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "inventory"
    os.mkfifo(fifo)
    message, took, _ = refused(parse_file, fifo, "ansible")
    assert message == f"{fifo}: not a regular file (a folder, FIFO or device); nothing was imported"
    huge = tmp_path / "big.csv"
    with open(huge, "wb") as fh:
        fh.truncate(100 * 1024 * 1024)
    message, took, peak = refused(parse_file, huge, "csv")
    assert message == f"{huge}: 100 MiB is too big for a host list (at most 32 MiB)"
    assert peak < 1_000_000

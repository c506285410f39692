import random
import textwrap
from pathlib import Path

import pytest

from techdesk.core.roster import HostSpec, RosterError, validate_spec
from techdesk.roster_io import (
    RosterFormatError,
    export_ansible_ini,
    export_csv,
    parse_ansible,
    parse_csv,
    parse_file,
    parse_ssh_config,
)
from techdesk.roster_io.ansible import looks_like_yaml

DATA = Path(__file__).resolve().parent.parent / "data"


def H(name, **kw):
    return HostSpec(name=name, **kw)


def dedent(text):
    return textwrap.dedent(text).lstrip("\n")


def fails(parse, text, filename="f"):
    with pytest.raises(RosterFormatError) as info:
        parse(text, filename)
    return info.value


def by_name(hosts):
    return sorted(hosts, key=lambda h: h.name)


# --- the error type and parse_file -------------------------------------------------


def test_error_message_names_file_and_line():
    e = RosterFormatError("hosts.csv", 7, "bad port")
    assert str(e) == "hosts.csv:7: bad port"
    assert (e.filename, e.line, e.message) == ("hosts.csv", 7, "bad port")
    assert isinstance(e, RosterError)
    assert str(RosterFormatError("x.ini", None, "unreadable")) == "x.ini: unreadable"


def test_parse_file_reports_invalid_utf8_with_its_line(tmp_path):
    path = tmp_path / "hosts.csv"
    path.write_bytes(b"name,address\nok,1.2.3.4\nB\xfcro,1.2.3.5\n")
    with pytest.raises(RosterFormatError) as info:
        parse_file(path, "csv")
    assert info.value.filename == str(path)
    assert info.value.line == 3
    assert "UTF-8" in info.value.message


def test_parse_file_missing_file_names_it(tmp_path):
    path = tmp_path / "nope.cfg"
    with pytest.raises(RosterFormatError) as info:
        parse_file(path, "ssh-config")
    assert str(info.value).startswith(f"{path}: cannot read file")


def test_parse_file_unknown_format():
    with pytest.raises(RosterError, match="unknown import format 'json'"):
        parse_file(DATA / "hosts.csv", "json")


def test_parse_file_passes_the_path_as_filename_in_errors(tmp_path):
    path = tmp_path / "config"
    path.write_text("\ufeffHost a\n  Port 99999\n", encoding="utf-8")
    with pytest.raises(RosterFormatError) as info:
        parse_file(path, "ssh-config")
    assert str(info.value) == f"{path}:2: port 99999 is out of range 1-65535"


# --- ssh_config --------------------------------------------------------------------


def test_ssh_config_sample_file():
    hosts = parse_file(DATA / "ssh_config", "ssh-config")
    acme_key = "~/.ssh/acme_ed25519"
    assert hosts == [
        H("acme-bastion", address="bastion.acme.example.com", port=2222, user="jdoe", key=acme_key),
        # %h expands to the alias; user@host:port in ProxyJump yields the host.
        H(
            "acme-fs01",
            address="acme-fs01.acme.lan",
            user="jdoe",
            jump="acme-bastion",
            key=acme_key,
        ),
        H(
            "acme-fs02",
            address="acme-fs02.acme.lan",
            user="jdoe",
            jump="acme-bastion",
            key=acme_key,
        ),
        # Own User wins over "Host acme-*"; only the first hop of a chain is kept.
        H(
            "acme-dc01",
            address="10.20.0.5",
            user="Administrator",
            jump="acme-bastion",
            key=acme_key,
        ),
        H(
            "mueller-nas",
            address="192.168.178.20",
            port=8022,
            user="admin",
            key="~/.ssh/keys/müller nas",
        ),
        # Plain names on a line with a wildcard become hosts; "Host * !homelab" supplies the key.
        H("mueller-pos1", port=22, user="kasse", key="~/.ssh/id_ed25519"),
        H("mueller-pos2", port=22, user="kasse", key="~/.ssh/id_ed25519"),
        # Lower-case keywords; excluded by "!homelab", so no key; Match block ignored.
        H("homelab", address="pi.home.arpa", user="pi"),
    ]


def test_ssh_wildcard_at_start_overrides_and_at_end_fills_in():
    text = dedent(
        """
        Host *
            User root
        Host web1
            User alice
            Port 2200
        Host *
            Port 22
            User bob
            IdentityFile ~/.ssh/default
        """
    )
    assert parse_ssh_config(text, "c") == [H("web1", user="root", port=2200, key="~/.ssh/default")]


def test_ssh_options_before_first_host_apply_to_all():
    text = "User everyone\nHost a\nHost b\n  User bee\n"
    assert parse_ssh_config(text, "c") == [H("a", user="everyone"), H("b", user="everyone")]


def test_ssh_question_mark_and_negated_patterns():
    text = dedent(
        """
        Host web1 web10 db1
        Host web? !db*
            User w
        Host *1 !web10
            Port 2201
        """
    )
    assert parse_ssh_config(text, "c") == [
        H("web1", user="w", port=2201),
        H("web10"),
        H("db1", port=2201),
    ]


def test_ssh_keyword_forms_quotes_comments_and_unknown_keywords():
    text = dedent(
        """
        # comment
        HOST "office pc"   # trailing comment
          hostname = 10.0.0.5
          USER="Jane Doe"
          IdentityFile C:\\Users\\jd\\.ssh\\id_ed25519
          LocalForward 8080 localhost:80
          SomeFutureKeyword whatever
          Include other.conf

        Host plain
          Port=2222
        """
    )
    assert parse_ssh_config(text, "c") == [
        H("office pc", address="10.0.0.5", user="Jane Doe", key="C:\\Users\\jd\\.ssh\\id_ed25519"),
        H("plain", port=2222),
    ]


def test_ssh_first_value_in_a_block_wins_and_tilde_is_kept():
    text = "Host a\n  IdentityFile ~/.ssh/one\n  IdentityFile ~/.ssh/two\n  User x\n  User y\n"
    assert parse_ssh_config(text, "c") == [H("a", key="~/.ssh/one", user="x")]


@pytest.mark.parametrize(
    "value, jump",
    [
        ("bastion", "bastion"),
        ("admin@bastion", "bastion"),
        ("admin@bastion:2222", "bastion"),
        ("ssh://admin@bastion:2222", "bastion"),
        ("hop1,hop2:22", "hop1"),
        ("root@[fe80::1]:22", "fe80::1"),
        ("none", None),
    ],
)
def test_ssh_proxyjump_forms(value, jump):
    assert parse_ssh_config(f"Host a\n  ProxyJump {value}\n", "c") == [H("a", jump=jump)]


def test_ssh_proxyjump_none_shields_from_later_default():
    text = "Host bastion\n  ProxyJump none\nHost a\nHost *\n  ProxyJump bastion\n"
    assert parse_ssh_config(text, "c") == [H("bastion"), H("a", jump="bastion")]


def test_ssh_match_block_is_skipped_until_next_host():
    text = dedent(
        """
        Match host a exec "true"
            User from-match
            Port nonsense
        Match all
            Port 1
        Host a
            User real
        """
    )
    assert parse_ssh_config(text, "c") == [H("a", user="real")]


def test_ssh_only_wildcards_means_no_hosts():
    assert parse_ssh_config("Host *\n  User x\nHost *.lan\n  Port 2\n", "c") == []
    assert parse_ssh_config("", "c") == []


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("Host a\n\nHost\n", 3, "Host needs at least one name"),
        ("Host a\nHost b\nHost c a\n", 3, "duplicate host 'a' (first on line 1)"),
        ("Host a\n  Port ssh\n", 2, "port 'ssh' is not a number"),
        ("Host a\n  Port 0\n", 2, "port 0 is out of range 1-65535"),
        ("Host a\n  User\n", 2, "User needs a value"),
        ('Host a\n  IdentityFile "~/.ssh/x\n', 2, 'unterminated " quote'),
        ("Host 'a\n", 1, "unterminated ' quote"),
        ('Host a\n  HostName ""\n', 2, "HostName needs a value"),
        # A wildcard default that makes a host its own jump host: reported at that host.
        ("Host bastion\nHost *\n  ProxyJump bastion\n", 1, "cannot be its own jump host"),
    ],
)
def test_ssh_errors_name_the_line(text, line, message):
    e = fails(parse_ssh_config, text, "my_config")
    assert (e.filename, e.line) == ("my_config", line)
    assert message in e.message
    assert str(e).startswith(f"my_config:{line}: ")


# --- CSV ---------------------------------------------------------------------------


def test_csv_sample_file_with_bom_crlf_and_mixed_case_header():
    hosts = parse_file(DATA / "hosts.csv", "csv")
    assert hosts == [
        H("acme-bastion", address="bastion.acme.example.com", port=2222, user="jdoe",
          client="Acme GmbH", site="HQ", tags=["bastion", "linux-servers"], os="linux",
          key="~/.ssh/acme_ed25519"),
        H("acme-dc01", address="10.20.0.5", user="Administrator", client="Acme GmbH", site="HQ",
          tags=["dc", "windows"], os="windows", jump="acme-bastion"),
        H("mueller-nas", address="192.168.178.20", port=8022, user="admin", client="Bäckerei Müller",
          site="Filiale Süd", tags=["nas"], os="linux", key="~/.ssh/keys/müller nas"),
        H("mueller-kasse1", address="192.168.178.31", user="kasse", client="Bäckerei Müller",
          site="Filiale Süd", tags=["pos", "windows"], os="windows"),
        H("Praxis Dr. Weiß – Empfang", address="10.0.5.10", user="empfang", client="Praxis Dr. Weiß",
          tags=["workstation"], os="windows"),
    ]  # fmt: skip


def test_csv_header_whitespace_and_case_and_column_order():
    text = " Address , NAME ,tags\n10.0.0.1,a, x ;y  z;\n"
    assert parse_csv(text, "f") == [H("a", address="10.0.0.1", tags=["x", "y", "z"])]


def test_csv_values_are_kept_literally():
    text = 'name,user,key,client\n" pc 1 ","O\'Brien ""x""","$(rm -rf /); echo","Büro ☃"\n'
    assert parse_csv(text, "f") == [
        H(" pc 1 ", user='O\'Brien "x"', key="$(rm -rf /); echo", client="Büro ☃")
    ]


def test_csv_short_rows_blank_rows_and_header_only():
    assert parse_csv("name,address,port\na\n\n,,\nb,10.0.0.2\n", "f") == [
        H("a"),
        H("b", address="10.0.0.2"),
    ]
    assert parse_csv("name,address\n", "f") == []


def test_csv_semicolon_delimited_excel_export():
    text = "name;address;tags\nkasse1;10.0.0.1;pos windows\n"
    assert parse_csv(text, "f") == [H("kasse1", address="10.0.0.1", tags=["pos", "windows"])]


def test_csv_empty_header_column_is_tolerated_while_empty():
    assert parse_csv("name,,address\na,,10.0.0.1\n", "f") == [H("a", address="10.0.0.1")]
    e = fails(parse_csv, "name,,address\na,,10.0.0.1\nb,oops,\n")
    assert (e.line, e.message) == (3, "value 'oops' under a column with no name")


def test_csv_line_numbers_count_physical_lines_of_multiline_cells():
    text = 'name,tags,port\na,"line one\nline two",22\nb,x,notaport\n'
    e = fails(parse_csv, text, "hosts.csv")
    assert str(e) == "hosts.csv:4: port 'notaport' is not a number"


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("", 1, "empty file: a header row is required"),
        ("web1,10.0.0.1\n", 1, "unknown column 'web1'"),
        ("name,address,colour\n", 1, "unknown column 'colour'"),
        ("address,port\n", 1, "the header has no 'name' column"),
        ("name,Name\n", 1, "column 'name' appears twice"),
        ("name,port\na,22\nb,70000\n", 3, "port 70000 is out of range 1-65535"),
        (
            "name,os\na,linux\nb,solaris\n",
            3,
            "os must be one of linux, macos, windows, not 'solaris'",
        ),
        ("name,address\na,1\n,10.0.0.2\n", 3, "a host needs a name"),
        ("name,address\na,1\nb,2\na,3\n", 4, "duplicate host 'a' (first on line 2)"),
        ("name,address\na,1,extra\n", 2, "row has 3 cells but the header names 2"),
        ('name,user\na,x\nb,"unterminated\nc,y\n', 3, "unterminated quoted cell"),
        ('name,user\na,"x"y\n', 2, "malformed CSV"),
        ("name,site\na,HQ\n", 2, "a site belongs to a client"),
        ("name,address\na,   \n", 2, "address '   ' is not valid"),
        ("name,jump\na,a\n", 2, "cannot be its own jump host"),
    ],
)
def test_csv_errors_name_the_line(text, line, message):
    e = fails(parse_csv, text, "hosts.csv")
    assert (e.filename, e.line) == ("hosts.csv", line)
    assert message in e.message


# --- Ansible: INI ------------------------------------------------------------------


def test_ansible_ini_sample_file():
    hosts = parse_file(DATA / "inventory.ini", "ansible")
    acme = dict(
        client="Acme GmbH", site="HQ", key="~/.ssh/acme_ed25519", jump="jumpbox.acme.example.com"
    )
    web = dict(acme, tags=["acme", "webservers"])
    db = dict(acme, tags=["acme", "dbservers"], port=5522)
    assert hosts == [
        H("jumpbox.acme.example.com", user="ops"),  # above any section: ungrouped, no tags
        H("web01.acme.lan", **web),
        H("web02.acme.lan", **web),
        H("web03.acme.lan", **web),
        H("web-legacy", address="10.20.1.9", port=2222, **web),
        H("db01", address="10.20.2.11", user="postgres", **db),  # host line beats group vars
        H("db02", address="10.20.2.12", user="dbadmin", **db),
        H("dc01", address="10.20.0.5", user="ACME\\Administrator", os="windows",
          tags=["acme", "windows"], **acme),
    ]  # fmt: skip


def test_ansible_ini_host_in_several_groups_is_one_host():
    text = "[web]\na ansible_host=10.0.0.1\n[prod]\na\n[web]\nb\n[all]\nc\n[ungrouped]\nd\n"
    assert parse_ansible(text, "i") == [
        H("a", address="10.0.0.1", tags=["prod", "web"]),
        H("b", tags=["web"]),
        H("c"),
        H("d"),
    ]


def test_ansible_ini_children_are_transitive_and_deeper_vars_win():
    text = dedent(
        """
        [kassen]
        k1
        [shop:children]
        kassen
        [client:children]
        shop
        [client:vars]
        ansible_user=client-user
        ansible_port=2000
        [shop:vars]
        ansible_user=shop-user
        [all:vars]
        ansible_user=everyone
        techdesk_os=Windows
        """
    )
    assert parse_ansible(text, "i") == [
        H("k1", user="shop-user", port=2000, os="windows", tags=["client", "kassen", "shop"])
    ]


def test_ansible_ini_ranges_and_host_port():
    text = "[r]\nweb[01:03]\ndb[a:c]-x\nn[0:10:5]\nbox:2222\nfe80::1\n"
    names = [(h.name, h.port) for h in parse_ansible(text, "i")]
    assert names == [
        ("web01", None), ("web02", None), ("web03", None),
        ("dba-x", None), ("dbb-x", None), ("dbc-x", None),
        ("n0", None), ("n5", None), ("n10", None),
        ("box", 2222), ("fe80::1", None),
    ]  # fmt: skip


def test_ansible_ini_quoted_names_are_literal_and_comments_are_dropped():
    text = "[g]\n'web[1:2]' ansible_user='a b'  # comment\n\"db:5432\"\n; full-line comment\n"
    assert parse_ansible(text, "i") == [
        H("web[1:2]", user="a b", tags=["g"]),
        H("db:5432", tags=["g"]),
    ]


def test_ansible_ini_unknown_vars_ignored_and_empty_means_unset():
    text = "a ansible_connection=local ansible_user= foo=bar\n[g:vars]\nansible_become=yes\nansible_user = 'x y'\n"
    assert parse_ansible(text, "i") == [H("a")]
    text = "[g]\na\n[g:vars]\nansible_user = 'x y'  # quoted\nansible_ssh_user=O'Brien\n"
    # Later line for the same field wins within a vars section (Ansible does the same).
    assert parse_ansible(text, "i") == [H("a", user="O'Brien", tags=["g"])]


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("[g\na\n", 1, "malformed section header"),
        ("[web servers]\n", 1, "bad group name"),
        ("[]\n", 1, "bad group name"),
        ("[g:hostvars]\n", 1, "unknown type 'hostvars'"),
        ("[g]\na\n[g:vars]\nansible_user\n", 4, "expected key=value in [g:vars]"),
        ("[g]\na ansible_user=x oops\n", 2, "expected key=value after the host name, got 'oops'"),
        ("[g]\na ansible_user='x\n", 2, "No closing quotation"),
        ("[p:children]\nc1 c2\n", 2, "expected one group name"),
        (
            "[g]\na ansible_port=22\n\n[g:vars]\nansible_port=http\n",
            5,
            "ansible_port: port 'http' is not a number",
        ),
        ("a techdesk_os=beos\n", 1, "os must be one of linux, macos, windows, not 'beos'"),
        (
            "[g]\na ansible_host=1.1.1.1\n[h]\na ansible_host=2.2.2.2\n",
            4,
            "is given address '2.2.2.2' here but '1.1.1.1' on line 2",
        ),
        ("[g]\nx\nweb[1:3]\nweb2 ansible_user=u\nweb2 ansible_user=v\n", 5, "is given user"),
        ("[g]\nweb[3:1]\n", 2, "expands to no or too many hosts"),
        ("[g]\nweb[0:99999]\n", 2, "too many hosts"),
        ("[g]\nweb[01:100]\n", 2, "zero-padded ends need equal length"),
        ("[g]\nweb[a:10]\n", 2, "bad host range '[a:10]'"),
        ("[g]\nweb[1:]\n", 2, "bad host range"),
        ("\n\na techdesk_site=HQ\n", 3, "a site belongs to a client"),
        ("[g]\na techdesk_jump=a\n", 2, "cannot be its own jump host"),
    ],
)
def test_ansible_ini_errors_name_the_line(text, line, message):
    e = fails(parse_ansible, text, "inv.ini")
    assert (e.filename, e.line) == ("inv.ini", line)
    assert message in e.message


# --- Ansible: YAML -----------------------------------------------------------------


def test_ansible_yaml_sample_file():
    hosts = parse_file(DATA / "inventory.yml", "ansible")
    shop = dict(client="Bäckerei Müller")
    kasse = dict(
        shop, site="Filiale Süd", user="kasse", os="windows", tags=["filiale_sued", "kassen", "pos"]
    )
    assert hosts == [
        H("router.mueller.lan", address="192.168.178.1", user="admin", **shop),
        H("nas-sued", address="192.168.178.20", port=8022, user="admin", site="Filiale Süd",
          key="~/.ssh/keys/müller nas", tags=["filiale_sued"], **shop),
        H("kasse1-sued", **kasse),
        H("kasse2-sued", **kasse),
        H("nas-nord", address="10.1.0.20", user="admin", site="Filiale Nord", tags=["filiale_nord"], **shop),
    ]  # fmt: skip


def test_ansible_yaml_scalars_are_taken_as_written():
    text = dedent(
        """
        all:
          hosts:
            a:
              ansible_user: yes
              ansible_host: ~
              ansible_port: 0022
              techdesk_client: "null"
            'web[1:2]':
            "b":
              ansible_user: ''
        """
    )
    assert parse_ansible(text, "i.yml") == [
        H("a", user="yes", port=22, client="null"),
        H("web[1:2]"),
        H("b"),
    ]


def test_ansible_yaml_top_level_groups_ranges_and_merge_keys():
    text = dedent(
        """
        ---
        defaults: &defaults
          vars: {ansible_user: ops}
        web:
          <<: *defaults
          hosts:
            web[1:2]:
              ansible_port: 2222
        all:
          children:
            web:
              hosts:
                web1:
        """
    )
    assert parse_ansible(text, "i") == [
        H("web1", user="ops", port=2222, tags=["web"]),
        H("web2", user="ops", port=2222, tags=["web"]),
    ]


def test_ansible_yaml_empty_document_has_no_hosts():
    assert parse_ansible("---\n", "i") == []
    assert parse_ansible("# nothing yet\n---\n...\n", "i") == []
    assert parse_ansible("all:\n  hosts:\n", "i") == []


@pytest.mark.parametrize(
    "text, line, message",
    [
        ('all:\n  hosts:\n    a:\n      ansible_user: "unterminated\n', 5, "YAML error"),
        ("all:\n  hosts: [a, b\n", 3, "YAML error"),
        ("all:\n\thosts:\n", 2, "YAML error"),
        ("---\nall: {}\n---\nall: {}\n", 3, "YAML error"),
        ("---\n- a\n- b\n", 2, "the inventory must be a mapping"),
        ("all:\n  hosts:\n    - a\n", 3, "hosts of group 'all' must be a mapping"),
        ("all:\n  host:\n    a:\n", 2, "unexpected key 'host' in group 'all'"),
        (
            "all:\n  hosts:\n    a:\n      ansible_port: 99999\n",
            4,
            "ansible_port: port 99999 is out of range",
        ),
        (
            "all:\n  hosts:\n    a:\n      ansible_host: [1, 2]\n",
            4,
            "ansible_host must be a single value",
        ),
        ("all:\n  hosts:\n    a: 5\n", 3, "host 'a' must be a mapping"),
        ("all:\n  hosts:\n    ? [a, b]\n    : {}\n", 3, "must be a plain name"),
        (
            "g:\n  hosts:\n    a: {ansible_host: x}\nh:\n  hosts:\n    a: {ansible_host: y}\n",
            6,
            "is given address 'y'",
        ),
        ("g: &g\n  children:\n    h: *g\n", 3, "group 'h' contains itself"),
        ("all:\n  vars:\n    techdesk_os: plan9\n", 3, "os must be one of"),
        (
            "all:\n  hosts:\n    a:\n    b:\n      techdesk_site: HQ\n",
            4,
            "a site belongs to a client",
        ),
        ("all:\n  hosts:\n    a\x07:\n", 3, "YAML error"),
    ],
)
def test_ansible_yaml_errors_name_the_line(text, line, message):
    e = fails(parse_ansible, text, "inv.yml")
    assert (e.filename, e.line) == ("inv.yml", line)
    assert message in e.message


@pytest.mark.parametrize(
    "text, is_yaml",
    [
        ("---\nall:\n", True),
        ("# c\n\nall:\n  hosts:\n", True),
        ("all: {}\n", True),
        ('{"all": {}}\n', True),
        ("[web]\na\n", False),
        ("web1 ansible_host=10.0.0.1\n", False),
        ("box:2222\n", False),
        ("web1   # note: old box\n", False),
        ("; comment: yes\n[g]\n", False),
        ("  indented: value\n", False),
        ("", False),
    ],
)
def test_ansible_format_detection(text, is_yaml):
    assert looks_like_yaml(text) is is_yaml


# --- export ------------------------------------------------------------------------


def test_export_csv_exact_text():
    hosts = [
        H("web1", address="10.0.0.1", port=2222, user="ops", client="Acme", site="HQ",
          tags=["linux", "web"], os="linux", jump="bastion", key="~/.ssh/id"),
        H("odd, name", user='say "hi"'),
    ]  # fmt: skip
    assert export_csv(hosts) == (
        "name,address,port,user,client,site,tags,os,jump,key\r\n"
        "web1,10.0.0.1,2222,ops,Acme,HQ,linux;web,linux,bastion,~/.ssh/id\r\n"
        '"odd, name",,,"say ""hi""",,,,,,\r\n'
    )


def test_export_ansible_ini_exact_text():
    hosts = [
        H("web1", address="10.0.0.1", port=2222, user="ops", tags=["web", "prod"], key="~/.ssh/id"),
        H("Büro PC", client="Müller & Söhne", os="windows"),
        H("db:5432", tags=["prod"]),
    ]
    assert export_ansible_ini(hosts) == dedent(
        """
        [ungrouped]
        'Büro PC' techdesk_client='Müller & Söhne' techdesk_os=windows

        [prod]
        web1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=ops ansible_ssh_private_key_file='~/.ssh/id'
        'db:5432'

        [web]
        web1
        """
    )


def test_export_empty_lists():
    assert export_csv([]) == "name,address,port,user,client,site,tags,os,jump,key\r\n"
    assert export_ansible_ini([]) == ""
    assert parse_csv(export_csv([]), "x") == []
    assert parse_ansible(export_ansible_ini([]), "x") == []


@pytest.mark.parametrize("tag", ["two words", "a;b", "tab\there"])
def test_export_csv_refuses_tags_it_cannot_write(tag):
    with pytest.raises(RosterError, match="cannot be written to CSV"):
        export_csv([H("a", tags=[tag])])


@pytest.mark.parametrize("tag", ["all", "ungrouped", "two words", "a:b", "x[1]"])
def test_export_ansible_refuses_tags_that_are_not_group_names(tag):
    with pytest.raises(RosterError, match="cannot be an Ansible group name"):
        export_ansible_ini([H("a", tags=[tag])])


def test_export_ansible_refuses_line_breaks():
    with pytest.raises(RosterError, match="line break"):
        export_ansible_ini([H("a", user="two\nlines")])


HOSTILE = [
    H("Büro-PC ☃", address="10.0.0.7", port=2222, user="O'Brien \"Admin\"", client="Acme; Inc",
      site="HQ ☃", tags=["büro", "winbox"], os="windows", jump="$(rm -rf /)", key="~/.ssh/my key"),
    H("$(rm -rf /)", address="`reboot`; echo pwned", user="a b", tags=["büro"]),
    H("name with spaces", address="  spaced  ", client="x", key="C:\\Users\\jd\\.ssh\\id"),
    H("semi;colon,comma", user="#not-a-comment", client="=1+1", site="'single'"),
    H("[bracket]:99", jump="db:5432", user="\\backslash\\", os="macos"),
    H("web[1:3]", tags=["a=b", "#x", "quote'tag"]),
    H("db:5432", port=1, user="ünïcødé ✓", key="new\rline"),
    H(" lead-and-trail ", address="--option", user="-oProxyCommand=evil"),
    H("---", client="key: value", tags=["all-ish"]),
    H("'quoted'", address='"dq"', user="'", client='"'),
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "ansible"])
def test_round_trip_hostile_values(fmt):
    hosts = [validate_spec(HostSpec(**h.as_dict())) for h in HOSTILE]
    if fmt == "csv":
        back = parse_csv(export_csv(hosts), "x.csv")
    else:
        back = parse_ansible(export_ansible_ini(hosts), "x.ini")
    assert by_name(back) == by_name(hosts)


@pytest.mark.parametrize(
    "sample, fmt",
    [
        ("hosts.csv", "csv"),
        ("inventory.ini", "ansible"),
        ("inventory.yml", "ansible"),
        ("ssh_config", "ssh-config"),
    ],
)
def test_round_trip_sample_files(sample, fmt):
    hosts = parse_file(DATA / sample, fmt)
    assert by_name(parse_csv(export_csv(hosts), "x")) == by_name(hosts)
    assert by_name(parse_ansible(export_ansible_ini(hosts), "x")) == by_name(hosts)


def _random_hosts(rng, count):
    # Characters picked for trouble: quoting, separators, shell, INI/YAML syntax, non-ASCII.
    alphabet = list("ab Z09 -_.,;:'\"\\$()`#=[]{}*?!~@%&|<>/\t\rü☃漢\u00a0\u2028")
    tag_alphabet = list("abcxyz09-_.#=!'\"$()ü☃{}")

    def text(chars=alphabet, n=8):
        return "".join(rng.choice(chars) for _ in range(rng.randint(1, n)))

    def maybe(value):
        return value if rng.random() < 0.6 else None

    hosts, names = [], set()
    while len(hosts) < count:
        name = text(n=12)
        client = maybe(text())
        spec = HostSpec(
            name=name,
            address=maybe(text()),
            port=maybe(rng.randint(1, 65535)),
            user=maybe(text()),
            client=client,
            site=maybe(text()) if client else None,
            tags=sorted({text(tag_alphabet, 5) for _ in range(rng.randint(0, 3))}),
            os=maybe(rng.choice(["linux", "macos", "windows"])),
            jump=maybe(text()),
            key=maybe(text()),
        )
        try:
            validate_spec(spec)  # keep only what the roster itself accepts
        except RosterError:
            continue
        if name not in names:
            names.add(name)
            hosts.append(spec)
    return hosts


@pytest.mark.parametrize("seed", range(20))
def test_round_trip_random_hostile_hosts(seed):
    hosts = _random_hosts(random.Random(seed), 25)
    assert by_name(parse_csv(export_csv(hosts), "x.csv")) == by_name(hosts)
    assert by_name(parse_ansible(export_ansible_ini(hosts), "x.ini")) == by_name(hosts)

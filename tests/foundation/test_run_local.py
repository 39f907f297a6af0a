"""`make run` (tools/run_local.py): the project on localcloud as any user runs it, through a plugin.

The products, the layer and infra/ never import localcloud (it only runs the template); the emulators of our
external APIs start from the template's parameters, only while a parameter keeps its local default; the
generated secrets have the forms the products expect; the database URLs come from the environment.
"""
import ast
import json
import logging
import socket
import textwrap
from pathlib import Path

import localcloud.__main__ as local_main
import emulators
from localcloud.cloud import free_port
from tools import run_local

ROOT = Path(__file__).resolve().parents[2]


def localcloud_imports(folder, root=ROOT):
    """`file:line module` (file relative to root) for every import of localcloud under folder, also inside
    functions."""
    found = []
    for path in sorted(Path(folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.relative_to(root)}:{node.lineno} {n}" for n in names
                      if n == "localcloud" or n.startswith("localcloud.")]
    return found


def test_products_layers_and_infra_never_import_localcloud():
    for folder in ("functions", "layers", "infra"):
        assert localcloud_imports(ROOT / folder) == [], f"{folder}/ imports localcloud"


def test_the_import_check_sees_an_import_inside_a_function(tmp_path):
    (tmp_path / "mod.py").write_text("def f():\n    from localcloud.template import load\n    import localcloud\n")
    (tmp_path / "other.py").write_text("import localcloudish\nfrom . import localcloud\n")   # neither is it
    assert localcloud_imports(tmp_path, tmp_path) == ["mod.py:2 localcloud.template", "mod.py:3 localcloud"]


def test_localcloud_names_none_of_our_products_or_parameters():
    words = ("ChatApp", "Notifications", "Broadcast", "Mailbox", "MailImport", "CodeCheck", "DatabaseUrl",
             "MysqlUrl", "SecretKey", "import emulators", "emulators.")
    package = ROOT / "localcloud" / "localcloud"
    named = [f"{path.relative_to(ROOT)}: {word}" for path in package.rglob("*.py") for word in words
             if word in path.read_text()]
    assert named == []


def test_generated_secrets_have_the_forms_the_products_expect(tmp_path):
    from cryptography.fernet import Fernet
    declared = {"SecretKey": {"NoEcho": True, "Default": ""}, "NotificationsProviderJwt": {"NoEcho": True},
                "BroadcastPassword": {"NoEcho": True, "Default": ""}}
    params = local_main.generated_secrets(declared, tmp_path, [run_local])
    Fernet(params["SecretKey"])                                             # a valid Fernet key
    assert params["NotificationsProviderJwt"].count(".") == 2               # a JWT
    assert len(params["BroadcastPassword"]) >= 16                           # localcloud's random token
    plain = local_main.generated_secrets({"SecretKey": {"NoEcho": True}}, tmp_path / "other")
    assert plain["SecretKey"] != params["SecretKey"] and len(plain["SecretKey"]) == 24   # no plugin: a token


def test_database_urls_come_from_the_environment_unless_given(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://env/db")
    monkeypatch.setenv("MYSQL_URL", "mysql://env/db")
    declared = {"DatabaseUrl": {"Default": "postgresql://default/db"}}
    args = local_main.parse_args(["run", "-p", "DatabaseUrl=postgresql://given/db"])
    args.state_dir = tmp_path
    assert local_main.parameters(args, declared, [run_local]) == {"DatabaseUrl": "postgresql://given/db"}
    args = local_main.parse_args(["run"])
    args.state_dir = tmp_path
    assert local_main.parameters(args, declared, [run_local]) == {"DatabaseUrl": "postgresql://env/db"}  # no MysqlUrl


def test_make_run_is_localcloud_with_this_project_as_its_plugin(monkeypatch):
    seen = []
    monkeypatch.setattr(run_local, "localcloud_main", seen.append)
    run_local.main([])
    run_local.main(["invoke", "MailboxFunction", "--template", "other.yaml"])
    run_local.main(["generate-event", "sqs"])
    assert seen == [["run", "--plugin", "tools.run_local", "--template", str(ROOT / "template.yaml")],
                    ["invoke", "--plugin", "tools.run_local", "MailboxFunction", "--template", "other.yaml"],
                    ["generate-event", "sqs"]]
    assert "python -m tools.run_local run" in (ROOT / "Makefile").read_text()


def test_emulators_of_our_apis_do_not_start_for_a_template_that_does_not_name_them(tmp_path):
    template = tmp_path / "template.yml"
    template.write_text("Parameters:\n  Other:\n    Type: String\n    Default: x\nResources: {}\n")
    assert run_local.services("127.0.0.1", {"Other": "x"}, template) == []


def test_emulators_start_only_where_a_parameter_keeps_its_local_default(tmp_path, caplog):
    chat_default, provider_default = free_port(), free_port()
    template = tmp_path / "template.yaml"
    template.write_text(textwrap.dedent(f"""
        Parameters:
          ChatAppBaseUrl:
            Type: String
            Default: http://127.0.0.1:{chat_default}
          NotificationsProviderBaseUrl:
            Type: String
            Default: http://127.0.0.1:{provider_default}
        Resources: {{}}
    """))
    real = socket.socket()                      # the "real" ChatApp the product is pointed at
    real.bind(("127.0.0.1", 0))
    real.listen()
    real_url = f"http://127.0.0.1:{real.getsockname()[1]}"
    caplog.set_level(logging.INFO, logger="emulators")
    started = []
    try:
        started = emulators.start_all(parameters={"ChatAppBaseUrl": real_url}, template=template)
        assert [(e.name, e.url) for e in started] == [("provider", f"http://127.0.0.1:{provider_default}")]
        assert f"emulator chatapp not started: ChatAppBaseUrl points at {real_url}, not its local default" in [
            r.getMessage() for r in caplog.records]
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", chat_default)) != 0     # nothing started on the default either
    finally:
        for emulator in started:
            emulator.stop()
        real.close()


def test_the_generated_parameters_file_is_the_one_make_run_prints(tmp_path):
    params = local_main.generated_secrets({"BroadcastPassword": {"NoEcho": True}}, tmp_path, [run_local])
    assert json.loads((tmp_path / "parameters.json").read_text()) == params

"""--plugin MODULE: a project's secrets, parameters and services reach localcloud without localcloud naming them."""
import sys
import textwrap

import pytest

import localcloud.__main__ as main

PLUGIN = textwrap.dedent('''
    def secret(name, spec):
        return "key-of-" + name if name.endswith("Key") else None

    def parameters(declared):
        return {"Url": "from-the-plugin", "Undeclared": "dropped"}
''')
DECLARED = {"SigningKey": {"NoEcho": True, "Default": ""}, "Password": {"NoEcho": True},
            "Url": {"Default": "http://default"}, "Stage": {"Default": "prod"}}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    monkeypatch.chdir(tmp_path)                 # imported from the current folder, as `python -m` would
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "my_plugin", raising=False)
    [module] = main.load_plugins(["my_plugin"])
    return module


def test_a_plugin_is_imported_from_the_current_folder(plugin, tmp_path):
    assert plugin.__file__ == str(tmp_path / "my_plugin.py")


def test_an_unknown_plugin_stops_the_start_naming_it():
    with pytest.raises(SystemExit, match="cannot import the plugin no_such_plugin_here"):
        main.load_plugins(["no_such_plugin_here"])


def test_the_plugin_chooses_a_secrets_form_and_a_random_token_is_the_rest(plugin, tmp_path):
    params = main.generated_secrets(DECLARED, tmp_path / "state", [plugin])
    assert params["SigningKey"] == "key-of-SigningKey"
    assert len(params["Password"]) == 24 and params["Password"] != params["SigningKey"]
    assert set(params) == {"SigningKey", "Password"}          # only NoEcho parameters without a default


def test_the_plugins_parameters_come_before_p_and_only_declared_ones(plugin, tmp_path):
    args = main.parse_args(["run", "--plugin", "my_plugin"])
    args.state_dir = tmp_path / "state"
    assert main.parameters(args, DECLARED, [plugin])["Url"] == "from-the-plugin"
    assert "Undeclared" not in main.parameters(args, DECLARED, [plugin])
    args = main.parse_args(["run", "-p", "Url=given"])
    args.state_dir = tmp_path / "state"
    assert main.parameters(args, DECLARED, [plugin])["Url"] == "given"
    args = main.parse_args(["run", "-p", "Other=x"])
    args.state_dir = tmp_path / "state"
    with pytest.raises(SystemExit, match="the template has no parameter Other"):
        main.parameters(args, DECLARED, [plugin])


def test_without_a_plugin_nothing_is_added(tmp_path):
    args = main.parse_args(["run"])
    args.state_dir = tmp_path / "state"
    assert set(main.parameters(args, DECLARED)) == {"SigningKey", "Password"}


def test_the_state_folder_is_beside_the_template_unless_the_environment_names_one(tmp_path, monkeypatch):
    from localcloud.paths import cache_dir, state_dir
    monkeypatch.delenv("LOCALCLOUD_STATE", raising=False)
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    assert state_dir(tmp_path / "template.yaml") == state_dir(tmp_path) == tmp_path / ".localcloud"
    monkeypatch.setenv("LOCALCLOUD_STATE", str(tmp_path / "elsewhere"))
    assert state_dir(tmp_path) == tmp_path / "elsewhere"
    monkeypatch.setenv("LOCALCLOUD_CACHE", str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("LOCALCLOUD_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "localcloud"

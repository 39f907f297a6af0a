"""`make run` wiring: the provider JWT parameter is generated as a real JWT, the emulator is started at the
address the template parameter names (its one place) and accepts that JWT, and refuses anything else."""
import json

import requests

import localcloud.__main__ as local_main
import emulators
from localcloud.template import load
from tools import run_local

from held_port import HeldPort
from notifications_helpers import JWT


def send(url, token, msg_id=1):
    return requests.post(f"{url}/v1/send/{msg_id}", json={"id": msg_id, "phone": 79161234567, "text": "Hi"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_generated_jwt_and_emulator_started_from_the_template_parameters(tmp_path, monkeypatch):
    declared = load(emulators.TEMPLATE)["Parameters"]
    assert declared["NotificationsProviderJwt"]["NoEcho"] is True
    params = local_main.generated_secrets(declared, tmp_path, [run_local])
    token = params["NotificationsProviderJwt"]
    assert token.count(".") == 2 and json.loads((tmp_path / "parameters.json").read_text())[
        "NotificationsProviderJwt"] == token
    again = local_main.generated_secrets(declared, tmp_path, [run_local])
    assert again["NotificationsProviderJwt"] == token      # kept, not regenerated

    held = HeldPort()       # the template names the port before the emulator binds it: nobody else may take it
    port = held.port
    defaults = {name: spec.get("Default") for name, spec in declared.items() if spec.get("Default")}
    assert defaults["NotificationsProviderBaseUrl"].startswith("http://127.0.0.1:")
    only_provider = [e for e in emulators.EMULATORS if e[0] == "provider"]
    monkeypatch.setattr(emulators, "EMULATORS", only_provider)
    # Emulators start only where a parameter's local default points: a template whose default is a free port.
    template = tmp_path / "template.yaml"
    template.write_text("Parameters:\n  NotificationsProviderBaseUrl:\n    Type: String\n"
                        f"    Default: http://127.0.0.1:{port}\nResources: {{}}\n")
    started = emulators.start_all(parameters=dict(defaults, NotificationsProviderBaseUrl=f"http://127.0.0.1:{port}",
                                                  **params), template=template)
    try:
        [provider] = started
        assert provider.url == f"http://127.0.0.1:{port}"
        answer = send(provider.url, token)
        assert answer.status_code == 200 and answer.json() == {"code": 0, "message": "OK"}
        assert send(provider.url, JWT).status_code == 401                 # another (valid) JWT is not ours
        assert send(provider.url, "not-a-jwt").status_code == 401
        bad = requests.post(f"{provider.url}/v1/send/2", json={"id": 3, "phone": "7916", "text": "x"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert bad.status_code == 400
        log = requests.get(f"{provider.url}/_emulator/requests", timeout=5).json()
        assert [entry["status"] for entry in log] == [200, 401, 401, 400]
        assert token not in json.dumps(log)
    finally:
        for emulator in started:
            emulator.stop()
        held.close()


def test_an_expired_jwt_is_refused(emulator_server):
    from emulators.provider import ProviderEmulator, issue_token
    expired = issue_token(b"k" * 32, lifetime_days=1, now=1_000_000_000)
    emulator = ProviderEmulator(token=expired).start()
    try:
        assert send(emulator.url, expired).status_code == 401
    finally:
        emulator.stop()

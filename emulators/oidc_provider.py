"""EMULATOR of an organisation's OpenID Connect provider (Keycloak, Cognito, Google Workspace...) for local
runs and tests. Not product code.

    GET  /.well-known/openid-configuration   the discovery document (issuer = this emulator's URL)
    GET  /jwks                                its RS256 public key (generated at start with `cryptography`)
    GET  /authorize?response_type=code&client_id&redirect_uri&scope=openid...&state&nonce
                   &code_challenge&code_challenge_method=S256[&login_hint=<e-mail>]
         -> 302 to redirect_uri?code=...&state=... at once: the configured test user (or login_hint) approves
    POST /token   grant_type=authorization_code, code, redirect_uri, code_verifier; the client's secret by
                  HTTP Basic or in the form -> {"access_token", "token_type", "expires_in", "id_token"}

A code is good once, for 60 s, for the client and redirect_uri it was issued to, and only with the verifier
whose S256 challenge came with it (PKCE). The ID token carries iss, sub, aud, exp, iat, nonce, email and
email_verified. Test controls (never part of a real provider), under /_emulator/:
  POST /_emulator/config {"user_email", "email_verified", "deny", "claims", "foreign_key"}
  GET  /_emulator/requests

Run: python -m emulators.oidc_provider --port 4003 --client-id notifications-local [--client-secret S]
"""
import argparse
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators import serving
from emulators.serving import Served

MAX_BODY = 64 * 1024
CODE_SECONDS = 60
TOKEN_SECONDS = 300


def s256(verifier):
    """The PKCE S256 challenge of a code verifier (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class OidcProviderEmulator(Served):
    """An EMULATED OpenID provider on a real HTTP port, auto-approving its test user."""
    thread_name = "oidc-emulator"

    def __init__(self, host="127.0.0.1", port=0, client_id="notifications-local", client_secret="",
                 user_email="operator@example.com"):
        self.host, self.port = host, port
        self.client_id, self.client_secret = client_id, client_secret
        self.lock = threading.Lock()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.configure(user_email=user_email, email_verified=True, deny=False, claims={}, foreign_key=False)
        self.reset()

    def handler_class(self):
        return _handler_for(self)

    # ---- controls ---------------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.codes = {}
            self.requests = []

    # What configure() takes: user_email, email_verified, deny (answer access_denied); claims: values that replace
    # the ID token's (None drops one); foreign_key: sign with a key that is not in the JWKS (forged tokens).
    KNOBS = {"user_email": str, "email_verified": bool, "deny": bool, "claims": dict, "foreign_key": bool}

    def configure(self, **knobs):
        unknown = sorted(set(knobs) - set(self.KNOBS))
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(unknown)}")
        with self.lock:
            for name, value in knobs.items():
                if value is not None:
                    setattr(self, name, self.KNOBS[name](value))

    # ---- the provider -----------------------------------------------------------------------------
    def discovery(self):
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email"],
                "code_challenge_methods_supported": ["S256"], "grant_types_supported": ["authorization_code"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified"]}

    def jwks(self):
        jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [dict(jwk, kid=self.kid, use="sig", alg="RS256")]}

    def authorize(self, query):
        """(status, headers, body) for an authorization request."""
        one = {name: values[0] for name, values in parse_qs(query).items()}
        self._log("authorize", {k: v for k, v in one.items() if k != "code_challenge"})
        if one.get("client_id") != self.client_id:
            return 400, {}, "unknown client_id"
        redirect_uri = one.get("redirect_uri") or ""
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return 400, {}, "redirect_uri must be an http(s) URL"
        answer = {"state": one["state"]} if "state" in one else {}
        if one.get("response_type") != "code" or "openid" not in (one.get("scope") or "").split():
            answer["error"] = "unsupported_response_type"
        elif one.get("code_challenge_method") != "S256" or not one.get("code_challenge"):
            answer["error"] = "invalid_request"      # PKCE is required here
        elif self.deny:
            answer["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            with self.lock:
                self.codes[code] = {"client_id": self.client_id, "redirect_uri": redirect_uri,
                                    "challenge": one["code_challenge"], "nonce": one.get("nonce"),
                                    "email": one.get("login_hint") or self.user_email,
                                    "email_verified": self.email_verified, "expires": time.time() + CODE_SECONDS}
            answer["code"] = code
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": redirect_uri + separator + urlencode(answer)}, ""

    def token(self, authorization, raw):
        """(status, JSON) for a token request; logged with its outcome."""
        status, answer = self._token(authorization, raw)
        self._log("token", {"status": status, "error": answer.get("error"),
                            "error_description": answer.get("error_description")})
        return status, answer

    def _token(self, authorization, raw):
        form = {name: values[0] for name, values in parse_qs(raw.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
            except ValueError:
                client_id = None
        if client_id != self.client_id or (self.client_secret and not hmac.compare_digest(
                (client_secret or "").encode(), self.client_secret.encode())):
            return 401, {"error": "invalid_client"}     # a client without a secret is public (PKCE only)
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            grant = self.codes.pop(form.get("code") or "", None)    # good once, whatever follows
        if grant is None or grant["expires"] < time.time() or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
        if not hmac.compare_digest(s256(form.get("code_verifier") or "").encode(), grant["challenge"].encode()):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {"iss": self.url, "sub": hashlib.sha256(grant["email"].encode()).hexdigest()[:24],
                  "aud": self.client_id, "iat": now, "exp": now + TOKEN_SECONDS, "email": grant["email"],
                  "email_verified": grant["email_verified"]}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        with self.lock:
            claims.update(self.claims)
            key = self.other_key if self.foreign_key else self.key
        id_token = pyjwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256",
                                headers={"kid": self.kid})
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                     "id_token": id_token}

    def _log(self, endpoint, fields):
        with self.lock:
            self.requests.append(dict(fields, endpoint=endpoint))


def _handler_for(emulator):
    class Handler(serving.Handler):
        def do_GET(self):
            path, _, query = self.path.partition("?")
            if path == "/.well-known/openid-configuration":
                self.reply(200, emulator.discovery())
            elif path == "/jwks":
                self.reply(200, emulator.jwks())
            elif path == "/authorize":
                status, headers, text = emulator.authorize(query)
                self.reply(status, text, dict(headers, **{"Cache-Control": "no-store"}),
                           content_type="text/plain; charset=utf-8")
            elif path == "/_emulator/requests":
                with emulator.lock:
                    self.reply(200, list(emulator.requests))
            else:
                self.reply(404, {"error": "not_found"})

        def do_POST(self):
            raw = self.body(MAX_BODY)
            if self.path == "/token":
                status, answer = emulator.token(self.headers.get("Authorization"), raw)
                self.reply(status, answer, {"Cache-Control": "no-store"})
            elif self.path == "/_emulator/config":
                try:
                    emulator.configure(**json.loads(raw or b"{}"))
                except (ValueError, TypeError) as exc:
                    self.reply(400, {"error": str(exc)})
                    return
                self.reply(200, {"ok": True})
            else:
                self.reply(404, {"error": "not_found"})

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulators.oidc_provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4003)
    parser.add_argument("--client-id", default="notifications-local")
    parser.add_argument("--client-secret", default="", help="NotificationsOidcClientSecret (none: a public client)")
    parser.add_argument("--user-email", default="operator@example.com")
    args = parser.parse_args(argv)
    serving.serve_until_interrupted(OidcProviderEmulator(
        args.host, args.port, client_id=args.client_id, client_secret=args.client_secret, user_email=args.user_email),
        "OpenID provider emulator (the issuer)")


if __name__ == "__main__":
    main()

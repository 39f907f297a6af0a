"""Operators sign in with their organisation's OpenID Connect provider (Keycloak, Cognito, Google Workspace...):
the authorization code flow with PKCE, through authlib.

start(): a fresh state, nonce and PKCE code verifier, kept in a short-lived signed cookie (common.signed_links,
10 minutes), and the provider's authorization URL. finish(): the callback's state must be the cookie's; the
code is exchanged at the token endpoint (with the verifier, the client's secret and a timeout); the ID token is
verified (signature with the provider's JWKS, issuer, audience, nonce, expiry); its e-mail must be verified
and of the allowed domain. Then the operator gets the same session the password sign-in gives (a token in
notifications.tokens, its SHA-256 only), under an operator named by the e-mail (created on first sign-in with
an unusable random password). Without NOTIFICATIONS_OIDC_ISSUER the whole flow is off: password sign-in only.
"""
import hmac
import json
import secrets as random
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from common import db, passwords, secrets, signed_links
from common.i18n import N_
from common.log import get_logger
from common.settings import Reader, SettingError, once
from common.web import AppError

from . import queries

log = get_logger(__name__)

FLOW_COOKIE = "notifications_oidc"
FLOW_PURPOSE = "notifications-oidc-sign-in"
FLOW_SECONDS = 600
LEEWAY_SECONDS = 60
MAX_USERNAME = 64    # notifications.operators.username
# Asymmetric signatures only: an ID token signed with "none" or with the client's secret is refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")

SIGN_IN_EXPIRED = N_("The sign-in expired or was started in another window. Please sign in again.")
PROVIDER_REFUSED = N_("The identity provider did not confirm the sign-in. Please try again.")
PROVIDER_UNAVAILABLE = N_("The identity provider is unavailable. Please try again later.")
NO_EMAIL = N_("The identity provider did not give a verified e-mail address for this account.")
DOMAIN_REFUSED = N_("Accounts of %(domain)s may not sign in here. Please use an account of %(allowed)s.")
EMAIL_TOO_LONG = N_("This account's e-mail address is too long to be an operator's name.")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str           # "" = no provider configured: password sign-in only
    client_id: str
    client_secret: str    # "" = a public client
    allowed_domain: str
    timeout: float
    session_hours: int

    @property
    def enabled(self):
        return bool(self.issuer)


@once
def load():
    """Read once per cold start; read(environ) builds them from another environment (tests)."""
    return read()


def read(environ=None):
    env = Reader(environ)
    issuer = env.url("NOTIFICATIONS_OIDC_ISSUER", "")
    hours = env.integer("NOTIFICATIONS_TOKEN_HOURS", 12, 1, 24 * 30)
    if not issuer:
        return OidcSettings("", "", "", "", 0.0, hours)
    domain = env.text("NOTIFICATIONS_OIDC_ALLOWED_DOMAIN", max_length=253).strip().lower().lstrip("@")
    if not domain or "@" in domain:
        raise SettingError("NOTIFICATIONS_OIDC_ALLOWED_DOMAIN must be a domain name, e.g. example.com")
    # No secret: a public client (PKCE alone proves the callback's code is this browser's).
    client_secret = secrets.get("NOTIFICATIONS_OIDC_CLIENT_SECRET", required=False, environ=environ) or ""
    return OidcSettings(issuer=issuer, client_id=env.text("NOTIFICATIONS_OIDC_CLIENT_ID", max_length=255),
                        client_secret=client_secret, allowed_domain=domain,
                        timeout=env.number("NOTIFICATIONS_OIDC_TIMEOUT", 5, 0.5, 15), session_hours=hours)


# ---- the provider's documents (discovery, keys), cached for the life of the execution environment ------

_documents = {}


def _get_json(url, settings):
    try:
        answer = requests.get(url, timeout=settings.timeout, headers={"Accept": "application/json"})
        answer.raise_for_status()
        found = answer.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("identity provider unavailable", url=url, error=type(exc).__name__)
        raise AppError(503, PROVIDER_UNAVAILABLE) from None
    if not isinstance(found, dict):
        raise AppError(503, PROVIDER_UNAVAILABLE)
    return found


def metadata(settings):
    """The provider's discovery document; its issuer must be the configured one."""
    found = _documents.get(("metadata", settings.issuer))
    if found is None:
        found = _get_json(settings.issuer + "/.well-known/openid-configuration", settings)
        if str(found.get("issuer", "")).rstrip("/") != settings.issuer or not all(
                isinstance(found.get(key), str) for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
            log.error("the identity provider's discovery document does not match NOTIFICATIONS_OIDC_ISSUER",
                      issuer=settings.issuer, announced=str(found.get("issuer"))[:200])
            raise AppError(503, PROVIDER_UNAVAILABLE)
        _documents[("metadata", settings.issuer)] = found
    return found


def _keys(settings, refresh=False):
    found = None if refresh else _documents.get(("jwks", settings.issuer))
    if found is None:
        found = _get_json(metadata(settings)["jwks_uri"], settings)
        _documents[("jwks", settings.issuer)] = found
    try:
        return KeySet.import_key_set(found)
    except (JoseError, ValueError, TypeError, KeyError):
        log.error("the identity provider's JWKS cannot be read", issuer=settings.issuer)
        raise AppError(503, PROVIDER_UNAVAILABLE) from None


def _client(settings, redirect_uri):
    return OAuth2Session(client_id=settings.client_id, client_secret=settings.client_secret or None,
                         token_endpoint_auth_method="client_secret_basic" if settings.client_secret else "none",
                         scope="openid email", redirect_uri=redirect_uri, code_challenge_method="S256",
                         default_timeout=settings.timeout)


# ---- the flow -----------------------------------------------------------------------------------------

def start(settings, redirect_uri):
    """(the provider's authorization URL, the flow cookie's value)."""
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    url, _state = _client(settings, redirect_uri).create_authorization_url(
        metadata(settings)["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    flow = json.dumps({"state": state, "nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri})
    return url, signed_links.make(FLOW_PURPOSE, flow, FLOW_SECONDS)


def finish(settings, flow_cookie, query, now):
    """The callback: (session token, expires_at, operator name) for the operator the provider vouches for;
    AppError (401 with what to do, 503 when the provider cannot be reached) otherwise. No session is made
    unless every check passes."""
    try:
        flow = json.loads(signed_links.read(flow_cookie or "", FLOW_PURPOSE))
    except signed_links.LinkError:
        raise AppError(401, SIGN_IN_EXPIRED) from None
    state = query.get("state")
    if not isinstance(state, str) or not hmac.compare_digest(state.encode(), flow["state"].encode()):
        log.warning("oidc callback with a state that is not this browser's")
        raise AppError(401, SIGN_IN_EXPIRED)
    if query.get("error") or not query.get("code"):
        log.warning("oidc sign-in refused by the provider", error=str(query.get("error", "no code"))[:100])
        raise AppError(401, PROVIDER_REFUSED)
    token = _exchange(settings, query["code"], flow)
    claims = _verified_claims(settings, token, flow["nonce"])
    email = _allowed_email(settings, claims)
    session, expires = _new_session(email, now, settings.session_hours)
    log.info("operator signed in with the identity provider", operator=email, issuer=settings.issuer)
    return session, expires, email


def _exchange(settings, code, flow):
    """The token endpoint's answer for the code (and the PKCE verifier)."""
    client = _client(settings, flow["redirect_uri"])
    try:
        token = client.fetch_token(metadata(settings)["token_endpoint"], code=code, code_verifier=flow["verifier"])
    except requests.RequestException as exc:
        log.warning("token endpoint unreachable", error=type(exc).__name__)
        raise AppError(503, PROVIDER_UNAVAILABLE) from None
    except (OAuthError, ValueError) as exc:
        log.warning("token endpoint refused the code", error=str(getattr(exc, "error", "") or type(exc).__name__))
        raise AppError(401, PROVIDER_REFUSED) from None
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        log.warning("token endpoint answered without an ID token")
        raise AppError(401, PROVIDER_REFUSED)
    return token


def _verified_claims(settings, token, nonce):
    algorithms = [a for a in metadata(settings).get("id_token_signing_alg_values_supported") or ["RS256"]
                  if a in ALGORITHMS]
    try:
        try:
            decoded = jwt.decode(token["id_token"], _keys(settings), algorithms=algorithms)
        except InvalidKeyIdError:        # keys rotated since they were cached
            decoded = jwt.decode(token["id_token"], _keys(settings, refresh=True), algorithms=algorithms)
        claims = CodeIDToken(decoded.claims, decoded.header,
                             {"iss": {"essential": True, "value": metadata(settings)["issuer"]},
                              "aud": {"essential": True, "value": settings.client_id},
                              "nonce": {"essential": True}},
                             {"nonce": nonce, "client_id": settings.client_id,
                              "access_token": token.get("access_token")})
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError) as exc:
        log.warning("ID token refused", error=type(exc).__name__, detail=str(exc)[:200])
        raise AppError(401, PROVIDER_REFUSED) from None
    if not hmac.compare_digest(str(claims.get("nonce")).encode(), nonce.encode()):
        raise AppError(401, PROVIDER_REFUSED)
    return claims


def _allowed_email(settings, claims):
    email = claims.get("email")
    if not isinstance(email, str) or email.count("@") != 1 or claims.get("email_verified") is False:
        raise AppError(401, NO_EMAIL)
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if domain != settings.allowed_domain:
        log.warning("oidc sign-in refused: domain not allowed", domain=domain[:100])
        raise AppError(401, DOMAIN_REFUSED, params={"domain": domain[:100], "allowed": settings.allowed_domain})
    if len(email) > MAX_USERNAME:
        raise AppError(401, EMAIL_TOO_LONG)
    return email


def _new_session(email, now, hours):
    """The operator named by the e-mail (created with an unusable password the first time) and a new token."""
    unusable = passwords.hash_password(random.token_urlsafe(32))     # argon2 runs outside the transaction
    token = random.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    with db.pg_transaction() as cur:
        cur.execute(queries.OIDC_OPERATOR, (email, unusable))
        operator_id = cur.fetchone()[0]
        cur.execute(queries.DELETE_EXPIRED_TOKENS, (now,))
        cur.execute(queries.CREATE_TOKEN, (passwords.api_key_digest(token), operator_id, expires))
    return token, expires

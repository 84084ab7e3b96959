"""``GET /_emulator/openapi.json``: an OpenAPI 3.0 description of the emulator's Backendless
side (domain form) and admin routes, precise enough for schemathesis to fuzz."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(desc: str, schema: dict[str, Any] | None = None, ctype: str = "application/json") -> Any:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {ctype: {"schema": schema}}
    return out


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _resp("error", _ERROR) for s in statuses}


def _json_body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_PROVIDER = {
    "name": "provider",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
}
_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"enum": ["oauth", "social"]}}
_ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]


def openapi_document(server_url: str) -> dict[str, Any]:
    user = {"$ref": "#/components/schemas/User"}
    login_body = {
        "type": "object",
        "properties": {
            "accessToken": {"type": "string"},
            "accessTokenSecret": {"type": "string"},
            "fieldsMapping": {"type": "object", "additionalProperties": {"type": "string"}},
            "guestUser": {"type": "object"},
        },
        "required": ["accessToken"],
    }
    url_body = {
        "type": "object",
        "properties": {
            "fieldsMapping": {"type": "object", "additionalProperties": {"type": "string"}},
            "permissions": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "redirect": {"type": "boolean"},
            "redirectAfterLoginUrl": {"type": "string"},
            "callbackUrlDomain": {"type": "string"},
            "contentType": {"type": "string"},
        },
    }
    fault = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["delay", "reset", "error"]},
            "path": {"type": "string", "nullable": True},
            "method": {"type": "string", "nullable": True},
            "count": {"type": "integer", "minimum": 1, "nullable": True},
            "delay": {"type": "number", "minimum": 0, "maximum": 60},
            "status": {"enum": [429, 500, 502, 503, 504]},
        },
        "required": ["kind"],
        "additionalProperties": False,
    }
    paths: dict[str, Any] = {
        "/api/users/register/guest": {
            "post": {
                "operationId": "guestLogin",
                "responses": {"200": _resp("the guest user with user-token", user)},
            }
        },
        "/api/users/{kind}/{provider}/login": {
            "post": {
                "operationId": "socialLogin",
                "parameters": [_KIND, _PROVIDER],
                "requestBody": _json_body(login_body, required=True),
                "responses": {"200": _resp("the user with user-token", user), **_errors(400)},
            }
        },
        "/api/users/{kind}/{provider}/request_url": {
            "post": {
                "operationId": "requestUrl",
                "parameters": [_KIND, _PROVIDER],
                "requestBody": _json_body(url_body),
                "responses": {
                    "200": {
                        "description": "the authorization URL (text or JSON)",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"url": {"type": "string"}},
                                }
                            },
                        },
                    },
                    "302": _resp("redirect to the provider"),
                    **_errors(400),
                },
            }
        },
        "/api/users/{kind}/{provider}/callback": {
            "get": {
                "operationId": "callback",
                "parameters": [
                    _KIND,
                    _PROVIDER,
                    *(
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("state", "code", "error", "oauth_token", "oauth_verifier")
                    ),
                ],
                "responses": {
                    "200": _resp("result page", {"type": "string"}, "text/html"),
                    "302": _resp("redirect to redirectAfterLoginUrl"),
                    "400": _resp("failure page or error", {"type": "string"}, "text/html"),
                },
            }
        },
        "/api/info": {
            "get": {
                "operationId": "appInfo",
                "responses": {
                    "200": _resp(
                        "what the JS SDK reads at initApp",
                        {
                            "type": "object",
                            "properties": {
                                "appId": {"type": "string"},
                                "apiKey": {"type": "string"},
                                "loggers": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    )
                },
            }
        },
        "/api/users/social/{provider}/sdk/login": {
            "post": {
                "operationId": "legacySdkLogin",
                "parameters": [_PROVIDER],
                "requestBody": _json_body(login_body, required=True),
                "responses": {"200": _resp("the user with user-token", user), **_errors(400)},
            }
        },
        "/api/users/social/oauth/{provider}/request_url": {
            "post": {
                "operationId": "legacyPopupUrl",
                "parameters": [_PROVIDER],
                "requestBody": _json_body(url_body),
                "responses": {
                    "200": _resp("the authorization URL", {"type": "string"}, "text/plain"),
                    **_errors(400),
                },
            }
        },
        "/api/users/logout": {
            "get": {
                "operationId": "logout",
                "parameters": [
                    {"name": "user-token", "in": "header", "schema": {"type": "string"}}
                ],
                "responses": {"200": _resp("logged out"), **_errors(400)},
            }
        },
        "/api/users/isvalidusertoken/{token}": {
            "get": {
                "operationId": "isValidUserToken",
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _resp("validity", {"type": "boolean"})},
            }
        },
        "/api/data/Users/{objectId}": {
            "get": {
                "operationId": "getUser",
                "parameters": [
                    {
                        "name": "objectId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "user-token", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {"200": _resp("the user", user), **_errors(400, 404)},
            }
        },
        "/_emulator/health": {
            "get": {
                "operationId": "health",
                "responses": {"200": _resp("alive", {"type": "object"})},
            }
        },
        "/_emulator/reset": {
            "post": {
                "operationId": "reset",
                "security": _ADMIN,
                "responses": {"200": _resp("reset", {"type": "object"}), **_errors(401)},
            }
        },
        "/_emulator/users": {
            "get": {
                "operationId": "listUsers",
                "security": _ADMIN,
                "responses": {
                    "200": _resp("users", {"type": "array", "items": user}),
                    **_errors(401),
                },
            }
        },
        "/_emulator/accounts/{provider}": {
            "get": {
                "operationId": "listAccounts",
                "security": _ADMIN,
                "parameters": [_PROVIDER],
                "responses": {
                    "200": _resp("accounts", {"type": "array", "items": {"type": "object"}}),
                    **_errors(400, 401, 404),
                },
            },
            "post": {
                "operationId": "addAccount",
                "security": _ADMIN,
                "parameters": [_PROVIDER],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
                        "required": ["email"],
                    },
                    required=True,
                ),
                "responses": {
                    "201": _resp("the account", {"type": "object"}),
                    **_errors(400, 401, 404),
                },
            },
        },
        "/_emulator/tokens": {
            "post": {
                "operationId": "mintProviderToken",
                "security": _ADMIN,
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "provider": {"type": "string"},
                            "account": {"type": "string"},
                        },
                        "required": ["provider", "account"],
                    },
                    required=True,
                ),
                "responses": {
                    "200": _resp("accessToken (and accessTokenSecret)", {"type": "object"}),
                    **_errors(400, 401),
                },
            }
        },
        "/_emulator/sessions/expire": {
            "post": {
                "operationId": "expireSessions",
                "security": _ADMIN,
                "requestBody": _json_body(
                    {"type": "object", "properties": {"userToken": {"type": "string"}}}
                ),
                "responses": {"200": _resp("count", {"type": "object"}), **_errors(400, 401)},
            }
        },
        "/_emulator/faults": {
            "get": {
                "operationId": "listFaults",
                "security": _ADMIN,
                "responses": {"200": _resp("faults", {"type": "array"}), **_errors(401)},
            },
            "post": {
                "operationId": "addFault",
                "security": _ADMIN,
                "requestBody": _json_body(fault, required=True),
                "responses": {"201": _resp("the fault", {"type": "object"}), **_errors(400, 401)},
            },
            "delete": {
                "operationId": "clearFaults",
                "security": _ADMIN,
                "responses": {"200": _resp("cleared", {"type": "array"}), **_errors(401)},
            },
        },
        "/_emulator/providers": {
            "get": {
                "operationId": "listProviders",
                "security": _ADMIN,
                "responses": {"200": _resp("providers", {"type": "object"}), **_errors(401)},
            }
        },
        "/_emulator/providers/{provider}": {
            "patch": {
                "operationId": "configureProvider",
                "security": _ADMIN,
                "parameters": [_PROVIDER],
                "requestBody": _json_body(
                    {"type": "object", "properties": {"enabled": {"type": "boolean"}}}
                ),
                "responses": {
                    "200": _resp("the provider", {"type": "object"}),
                    **_errors(400, 401, 404),
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "backendless-auth emulator",
            "version": "1",
            "description": "Backendless user service (domain form; the same routes also live "
            "under /<APP_ID>/<API_KEY>/) and the emulator's admin routes.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token"}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                    "required": ["code", "message"],
                },
                "User": {
                    "type": "object",
                    "properties": {
                        "___class": {"type": "string"},
                        "objectId": {"type": "string"},
                        "ownerId": {"type": "string"},
                        "email": {"type": "string", "nullable": True},
                        "name": {"type": "string", "nullable": True},
                        "userStatus": {"type": "string"},
                        "created": {"type": "integer"},
                        "updated": {"type": "integer", "nullable": True},
                        "lastLogin": {"type": "integer", "nullable": True},
                        "user-token": {"type": "string"},
                    },
                    "required": ["___class", "objectId", "userStatus"],
                },
            },
        },
    }

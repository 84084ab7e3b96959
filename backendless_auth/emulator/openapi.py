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
    paths.update(_account_paths(user))
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


# --- accounts with passwords (emulator/accounts.py) -----------------------------------------

_TOKEN_HEADER = {"name": "user-token", "in": "header", "schema": {"type": "string"}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _account_paths(user: dict[str, Any]) -> dict[str, Any]:
    users = {"type": "array", "items": user}
    roles = {"type": "array", "items": {"type": "string"}}
    empty = _resp("done (empty body)")
    props = {"type": "object", "additionalProperties": True}
    query = [
        {"name": n, "in": "query", "required": False, "schema": schema}
        for n, schema in (
            ("loadRoles", {"type": "boolean"}),
            ("where", {"type": "string"}),
            ("props", {"type": "string"}),
            ("property", {"type": "string"}),
            ("excludeProps", {"type": "string"}),
            ("sortBy", {"type": "string"}),
            ("pageSize", {"type": "integer", "minimum": 1, "maximum": 100}),
            ("offset", {"type": "integer", "minimum": 0}),
        )
    ]
    return {
        "/api/users/register": {
            "post": {
                "operationId": "register",
                "parameters": [_TOKEN_HEADER],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "email": {"type": "string"},
                            "password": {"type": "string"},
                            "name": {"type": "string"},
                            "blUserLocale": {"type": "string"},
                        },
                        "required": ["email", "password"],
                        "additionalProperties": True,
                    },
                    required=True,
                ),
                "responses": {"200": _resp("the new user (not logged in)", user), **_errors(400)},
            }
        },
        "/api/users/login": {
            "post": {
                "operationId": "login",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "login": {"type": "string"},
                            "password": {"type": "string"},
                            "objectId": {"type": "string"},
                        },
                    },
                    required=True,
                ),
                "responses": {
                    "200": _resp("the user with user-token", user),
                    **_errors(400, 401),
                },
            }
        },
        "/api/users/verifypassowrd": {
            "post": {
                "operationId": "verifyPassword",
                "parameters": [_TOKEN_HEADER],
                "requestBody": _json_body(
                    {"type": "object", "properties": {"password": {"type": "string"}}},
                    required=True,
                ),
                "responses": {
                    "200": _resp(
                        "the check",
                        {"type": "object", "properties": {"valid": {"type": "boolean"}}},
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/users/restorepassword/{identity}": {
            "get": {
                "operationId": "restorePassword",
                "parameters": [_path_param("identity")],
                "responses": {"200": empty, **_errors(400)},
            }
        },
        "/api/users/resendconfirmation/{identity}": {
            "post": {
                "operationId": "resendEmailConfirmation",
                "parameters": [_path_param("identity")],
                "responses": {"200": empty, **_errors(400)},
            }
        },
        "/api/users/createEmailConfirmationURL/{identity}": {
            "post": {
                "operationId": "createEmailConfirmationURL",
                "parameters": [_path_param("identity")],
                "responses": {
                    "200": _resp(
                        "the link",
                        {"type": "object", "properties": {"confirmationURL": {"type": "string"}}},
                    ),
                    **_errors(400),
                },
            }
        },
        "/api/users/{objectId}": {
            "put": {
                "operationId": "updateUser",
                "parameters": [_path_param("objectId"), _TOKEN_HEADER],
                "requestBody": _json_body(props, required=True),
                "responses": {"200": _resp("the updated user", user), **_errors(400)},
            }
        },
        "/api/users/{objectId}/status": {
            "put": {
                "operationId": "updateUserStatus",
                "parameters": [_path_param("objectId")],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "userStatus": {
                                "enum": ["ENABLED", "DISABLED", "EMAIL_CONFIRMATION_PENDING"]
                            }
                        },
                        "required": ["userStatus"],
                    },
                    required=True,
                ),
                "responses": {"200": empty, **_errors(400)},
            }
        },
        "/api/users/userroles": {
            "get": {
                "operationId": "getUserRoles",
                "parameters": [_TOKEN_HEADER],
                "responses": {"200": _resp("role names", roles), **_errors(400)},
            }
        },
        "/api/users/userroles/{objectId}": {
            "get": {
                "operationId": "getUserRolesById",
                "parameters": [_path_param("objectId")],
                "responses": {"200": _resp("role names", roles), **_errors(400)},
            }
        },
        "/api/users/role/{role}": {
            "get": {
                "operationId": "findByRole",
                "parameters": [_path_param("role"), *query],
                "responses": {"200": _resp("users", users), **_errors(400)},
            }
        },
        **{
            f"/api/users/{op}": {
                "post": {
                    "operationId": op,
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "properties": {
                                "user": {"type": "string"},
                                "roleName": {"type": "string"},
                            },
                            "required": ["user", "roleName"],
                        },
                        required=True,
                    ),
                    "responses": {"200": empty, **_errors(400)},
                }
            }
            for op in ("assignRole", "unassignRole")
        },
        "/api/users/userclassprops": {
            "get": {
                "operationId": "describeUserClass",
                "responses": {
                    "200": _resp("the columns", {"type": "array", "items": {"type": "object"}})
                },
            }
        },
        "/api/users/email/confirm/{token}": {
            "get": {
                "operationId": "confirmEmailPage",
                "parameters": [_path_param("token")],
                "responses": {
                    "200": _resp("confirmed", {"type": "string"}, "text/html"),
                    "400": _resp("unknown or expired link", {"type": "string"}, "text/html"),
                },
            }
        },
        "/api/users/password/reset/{token}": {
            "get": {
                "operationId": "resetPasswordPage",
                "parameters": [_path_param("token")],
                "responses": {
                    "200": _resp("the form", {"type": "string"}, "text/html"),
                    "400": _resp("unknown or expired link", {"type": "string"}, "text/html"),
                },
            },
            "post": {
                "operationId": "resetPasswordSubmit",
                "parameters": [_path_param("token")],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "csrf": {"type": "string"},
                                    "password": {"type": "string"},
                                    "confirm": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _resp("changed", {"type": "string"}, "text/html"),
                    "400": _resp("refused", {"type": "string"}, "text/html"),
                    "403": _resp("CSRF check failed", {"type": "string"}, "text/html"),
                },
            },
        },
        "/_emulator/outbox": {
            "get": {
                "operationId": "listOutbox",
                "security": _ADMIN,
                "parameters": [
                    {"name": "to", "in": "query", "schema": {"type": "string"}},
                    {"name": "kind", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _resp("the emails", {"type": "array", "items": {"type": "object"}}),
                    **_errors(401),
                },
            },
            "delete": {
                "operationId": "clearOutbox",
                "security": _ADMIN,
                "responses": {"200": _resp("count", {"type": "object"}), **_errors(401)},
            },
        },
        "/_emulator/settings/users": {
            "get": {
                "operationId": "getUserSettings",
                "security": _ADMIN,
                "responses": {"200": _resp("the settings", {"type": "object"}), **_errors(401)},
            },
            "patch": {
                "operationId": "configureUsers",
                "security": _ADMIN,
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "properties": {
                            "emailConfirmation": {"type": "boolean"},
                            "lockout": {"type": "object"},
                            "passwordPolicy": {"type": "object"},
                            "roles": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                ),
                "responses": {
                    "200": _resp("the settings", {"type": "object"}),
                    **_errors(400, 401),
                },
            },
        },
    }

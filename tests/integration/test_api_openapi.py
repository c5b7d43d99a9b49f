"""The OpenAPI document is served at /api/v1/openapi.json and describes every endpoint."""

from __future__ import annotations

EXPECTED = {
    "/api/v1/policy": {"get"},
    "/api/v1/groups": {"get"},
    "/api/v1/pupils": {"get"},
    "/api/v1/lessons": {"get", "post"},
    "/api/v1/lessons/{lesson_id}": {"get"},
    "/api/v1/lessons/{lesson_id}/approve": {"post"},
    "/api/v1/lessons/{lesson_id}/decline": {"post"},
    "/api/v1/lessons/{lesson_id}/cancel": {"post"},
    "/api/v1/lessons/{lesson_id}/invitations": {"post"},
}


def test_it_serves_the_openapi_document_listing_every_path(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "SafeClass API"
    paths = {path: set(ops) for path, ops in doc["paths"].items()}
    assert paths == EXPECTED


def test_it_documents_bearer_auth_and_the_error_shape(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("security"), f"{method} {path} must require the token"
            assert "401" in op["responses"], f"{method} {path} must document 401"
    post = doc["paths"]["/api/v1/lessons"]["post"]
    assert "201" in post["responses"] and "422" in post["responses"]
    assert "ErrorsOut" in str(post["responses"]["422"])


def test_it_does_not_expose_the_room_id(client, db):
    doc = client.get("/api/v1/openapi.json").text
    assert "room_id" not in doc


def test_it_has_no_interactive_docs_page(client, db):
    # The Swagger page needs a CDN script that our Content Security Policy forbids.
    assert client.get("/api/v1/docs").status_code == 404

"""The JSON API's own pieces: token auth and the OpenAPI document with its offline Swagger UI."""

"""Request and response models of the HTTP API (they define the OpenAPI schema)."""

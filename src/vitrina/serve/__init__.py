"""The HTTP service: FastAPI app, tenants and keys, metrics, the storefront page and the pixel."""
